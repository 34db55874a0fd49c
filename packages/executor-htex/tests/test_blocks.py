"""Several blocks: the block-id manager selector, hold_worker(), and a pool that stops heartbeating
(SIGSTOP) is declared lost within heartbeat_threshold while the other blocks carry on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import BlockIdManagerSelector, HighThroughputExecutor, ManagerLost

THRESHOLD = 3


@python_app
def block_id():
    import os

    return os.environ["PARSL_WORKER_BLOCK_ID"]


@python_app
def park(pid_file, release_file):
    """Write this worker's pool pid, then wait (at most a minute) for ``release_file``."""
    import os
    import time

    with open(pid_file + ".tmp", "w") as f:
        f.write(f"{os.getppid()} {os.environ['PARSL_WORKER_BLOCK_ID']}")
    os.rename(pid_file + ".tmp", pid_file)
    deadline = time.monotonic() + 60
    while not os.path.exists(release_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    return os.environ["PARSL_WORKER_BLOCK_ID"]


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def three_blocks(tmp_path_factory, htex_tools):
    before = htex_tools.processes()
    ex = HighThroughputExecutor(
        label="htex",
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=THRESHOLD,
        manager_selector=BlockIdManagerSelector(),
        provider=LocalProvider(init_blocks=3, max_blocks=3),
    )
    dfk = parsl.load(
        Config(executors=[ex], run_dir=str(tmp_path_factory.mktemp("blocks") / "runinfo"), strategy="none")
    )
    wait_for(lambda: len(ex.connected_managers()) == 3, what="three worker pools to connect")
    yield ex
    dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived cleanup"


def by_block(ex):
    return {d["block_id"]: d for d in ex.connected_managers()}


def active_blocks(ex):
    """Block ids of the pools still taking tasks, highest first (the tests share one executor
    and run in any order, so each one reads where the others left it)."""
    return sorted((b for b, d in by_block(ex).items() if d["active"]), key=int, reverse=True)


def test_block_id_selector_fills_the_highest_block_first(three_blocks):
    highest = active_blocks(three_blocks)[0]
    assert [block_id().result(timeout=30) for _ in range(5)] == [highest] * 5


def test_hold_worker_sends_no_more_tasks_to_that_pool(three_blocks):
    ex = three_blocks
    first, second = active_blocks(ex)[:2]
    assert ex.hold_worker(by_block(ex)[first]["manager"]) is True
    assert by_block(ex)[first]["active"] is False
    assert [block_id().result(timeout=30) for _ in range(5)] == [second] * 5
    assert ex.hold_worker("no-such-manager") is False


@pytest.mark.slow
def test_stopped_pool_is_lost_within_heartbeat_threshold_and_others_carry_on(three_blocks, tmp_path):
    ex = three_blocks
    pid_file, release = str(tmp_path / "pool.pid"), str(tmp_path / "release")
    doomed = park(pid_file, release)  # lands on the highest active block
    pid_text, lost_block = wait_for(
        lambda: os.path.exists(pid_file) and Path(pid_file).read_text(), what="the task to start"
    ).split()
    pool_pid = int(pid_text)
    os.kill(pool_pid, signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        with pytest.raises(ManagerLost, match="no heartbeat"):
            doomed.result(timeout=THRESHOLD + 30)
        # declared lost within the threshold (plus the 1 s check period and scheduling slack)
        assert time.monotonic() - stopped < THRESHOLD + 4
        assert lost_block not in by_block(ex)
        # the executor carries on with the remaining blocks
        remaining = active_blocks(ex)
        assert remaining and lost_block not in remaining
        assert [block_id().result(timeout=30) for _ in range(3)] == [remaining[0]] * 3
        assert not ex.bad_state_is_set
    finally:
        open(release, "w").close()
        os.kill(pool_pid, signal.SIGCONT)  # it hears STOP from the interchange and exits
