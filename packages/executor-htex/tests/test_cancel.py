"""AppFuture.cancel() on HTEX: a task still queued in the interchange is withdrawn; one that a
worker has is not interrupted (real interchange, pool and worker processes)."""

from __future__ import annotations

from concurrent.futures import CancelledError

import pytest

import parsl
from parsl import python_app
from parsl.dataflow.errors import DependencyError


@python_app
def hold(path, delay):
    import os
    import time

    with open(os.path.join(path, "hold-started"), "w"):
        pass
    time.sleep(delay)
    return "held"


@python_app
def touch(path, name):
    import os

    with open(os.path.join(path, name), "w"):
        pass
    return name


@python_app
def after(x):
    return x


@pytest.fixture
def one_worker(tmp_path, htex_tools):
    before = htex_tools.processes()
    # one worker, no prefetch: a second task waits in the interchange while the first runs
    dfk = parsl.load(htex_tools.make_config(str(tmp_path / "runinfo"), max_workers_per_node=1))
    yield dfk
    dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)


def _wait_for(path, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_cancel_withdraws_queued_task_not_running_one(one_worker, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    running = hold(str(out), 2.0)
    _wait_for(out / "hold-started")
    queued = touch(str(out), "queued-ran")
    dependent = after(queued)
    kept = touch(str(out), "kept-ran")

    assert queued.cancel() is True
    assert queued.cancelled()
    with pytest.raises(CancelledError):
        queued.result()
    with pytest.raises(DependencyError):
        dependent.result(timeout=30)
    assert queued.task_status() == "failed"

    assert running.cancel() is False  # on a worker: not interrupted
    assert running.result(timeout=30) == "held"
    assert kept.result(timeout=30) == "kept-ran"
    assert not (out / "queued-ran").exists(), "a withdrawn task ran"
    assert one_worker.executors["htex"].outstanding == 0


def test_cancel_after_completion_returns_false(one_worker, tmp_path):
    f = touch(str(tmp_path), "done")
    assert f.result(timeout=30) == "done"
    assert f.cancel() is False
    assert not f.cancelled()


def test_cancel_many_queued_tasks_the_rest_run(one_worker, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    running = hold(str(out), 1.0)
    _wait_for(out / "hold-started")
    futures = [touch(str(out), f"t{i}") for i in range(20)]
    cancelled = {i for i in range(0, 20, 2) if futures[i].cancel()}
    assert cancelled == set(range(0, 20, 2))
    assert running.result(timeout=30) == "held"
    for i, f in enumerate(futures):
        if i in cancelled:
            assert f.cancelled()
        else:
            assert f.result(timeout=30) == f"t{i}"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("t")) == sorted(
        f"t{i}" for i in range(20) if i not in cancelled
    )
