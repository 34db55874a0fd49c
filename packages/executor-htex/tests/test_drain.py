"""drain_period: a pool stops taking tasks after it, finishes what it holds and exits; nothing is lost."""

from __future__ import annotations

import time

import pytest

import parsl
from parsl import python_app

DRAIN = 2


@python_app
def nap(t, release=None):
    """Sleep ``t`` seconds, or until ``release`` exists (at most a minute)."""
    import os
    import time

    deadline = time.monotonic() + (60 if release else t)
    while time.monotonic() < deadline and not (release and os.path.exists(release)):
        time.sleep(0.05)
    return os.environ["PARSL_WORKER_BLOCK_ID"]


@pytest.mark.slow
def test_pool_drains_finishes_its_tasks_and_exits(tmp_path, htex_tools):
    before = htex_tools.processes()
    config = htex_tools.make_config(
        str(tmp_path / "runinfo"), encrypted=False, max_workers_per_node=1, drain_period=DRAIN
    )
    with parsl.load(config) as dfk:
        ex = dfk.executors["htex"]
        release = str(tmp_path / "release")
        running = nap(0, release)  # still running when the drain period ends
        deadline = time.monotonic() + 15
        while not any(d["draining"] for d in ex.connected_managers()) and time.monotonic() < deadline:
            time.sleep(0.05)
        # the draining pool takes no new task: this one waits in the interchange
        queued = nap(0)
        time.sleep(0.2)
        open(release, "w").close()
        assert running.result(timeout=30) == "0"
        while ex.connected_managers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ex.connected_managers() == []
        # the pool process exits (its block's job ends) on its own
        while not ex.status()["0"].terminal and time.monotonic() < deadline:
            ex._refresh_status()
            time.sleep(0.05)
        assert ex.status()["0"].state.name == "COMPLETED"
        assert not queued.done()
        # a new block runs it
        ex.scale_out_facade(1)
        assert queued.result(timeout=30) == "1"
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)
