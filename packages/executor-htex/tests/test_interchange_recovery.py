"""A SIGKILLed interchange is replaced: pools reconnect, queued tasks are resubmitted, tasks a pool
held count as a try (InterchangeLost), and past ``interchange_restarts`` the executor gives up.

Every test runs real processes: the interchange, worker pools and workers on this machine.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.errors import BadStateException, ExecutorError
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor, InterchangeLost


@python_app
def double(x, delay=0.0):
    import time

    if delay:
        time.sleep(delay)
    return 2 * x


@python_app
def marked(x, marker_dir, delay):
    """Leave a file named after ``x`` when it starts, then sleep ``delay`` seconds."""
    import os
    import time

    open(os.path.join(marker_dir, str(x)), "w").close()
    time.sleep(delay)
    return 2 * x


def _executor(**kw) -> HighThroughputExecutor:
    opts = dict(
        label="htex",
        max_workers_per_node=2,
        heartbeat_period=1,
        heartbeat_threshold=20,
        provider=LocalProvider(init_blocks=1, max_blocks=1),
    )
    opts.update(kw)
    return HighThroughputExecutor(**opts)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _pools(ex: HighThroughputExecutor) -> list[str]:
    try:
        return sorted(d["manager"] for d in ex.connected_managers())
    except Exception:  # the interchange is being replaced
        return []


def _kill_interchange(ex: HighThroughputExecutor) -> int:
    """SIGKILL the running interchange; wait until its replacement has every task back."""
    proc = ex._ix_proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGKILL)
    _wait(lambda: ex._ix_proc is not proc and not ex._restarting, 60, "a new interchange")
    return proc.pid


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"interchange_restarts": -1}, ValueError, "interchange_restarts=-1"),
        ({"interchange_restarts": 2.5}, TypeError, "use an int"),
        ({"interchange_restarts": True}, TypeError, "use an int"),
        ({"interchange_restart_window": 0}, ValueError, "positive number of seconds"),
        ({"interchange_restart_window": "60"}, ValueError, "interchange_restart_window='60'"),
    ],
)
def test_bad_restart_bounds_are_refused_at_construction(kw, error, match):
    with pytest.raises(error, match=match):
        HighThroughputExecutor(**kw)


def test_restart_bounds_have_defaults_and_are_kept():
    ex = HighThroughputExecutor()
    assert (ex.interchange_restarts, ex.interchange_restart_window) == (3, 60.0)
    ex = HighThroughputExecutor(interchange_restarts=0, interchange_restart_window=5)
    assert (ex.interchange_restarts, ex.interchange_restart_window) == (0, 5.0)
    assert issubclass(InterchangeLost, ExecutorError)


# ------------------------------------------------------------------- recovery
@pytest.mark.slow
def test_many_kills_in_a_10000_task_workflow_every_task_completes_once(tmp_path):
    """Five SIGKILLs at random moments; with retries=1 every task ends once, with its value."""
    rng = random.Random(15)
    n = 10_000
    ex = _executor(max_workers_per_node=4, interchange_restarts=10)
    config = Config(executors=[ex], retries=1, run_dir=str(tmp_path), strategy="none")
    with parsl.load(config):
        _wait(lambda: _pools(ex), 60, "the worker pool")
        pools = _pools(ex)
        futures = [double(i, 0.004) for i in range(n)]
        kills = []
        while len(kills) < 5:
            time.sleep(rng.uniform(0.1, 1.5))
            # a retried task waits behind the others: with this many left it cannot be held
            # by a pool at the next kill, so retries=1 is enough for every task
            if ex.outstanding < 1500:
                break
            kills.append(_kill_interchange(ex))
        results = [f.result(timeout=600) for f in futures]
        records = [f.task_record for f in futures]
        final_pools = _pools(ex)
    assert len(kills) == 5, f"the workflow ended after {len(kills)} kills: make its tasks longer"
    assert len(set(kills)) == 5
    assert results == [2 * i for i in range(n)]
    assert all(r.status.name == "exec_done" for r in records)
    assert max(r.try_id for r in records) <= 1
    assert ex.outstanding == 0 and not ex.tasks
    # the pool that ran the workflow reconnected every time (no new block was started)
    assert final_pools == pools


def test_a_kill_with_no_retries_fails_only_the_tasks_a_pool_held(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="parsl_executor_htex.executor")
    markers = tmp_path / "started"
    markers.mkdir()
    ex = _executor(prefetch_capacity=0)
    config = Config(executors=[ex], retries=0, run_dir=str(tmp_path / "run"), strategy="none")
    with parsl.load(config):
        futures = [marked(i, str(markers), 2.0) for i in range(12)]
        # both workers busy: the interchange dispatched exactly these two and queues the rest
        _wait(lambda: len(os.listdir(markers)) == 2, 60, "two running tasks")
        running = {int(name) for name in os.listdir(markers)}
        _kill_interchange(ex)
        outcomes = {}
        for i, f in enumerate(futures):
            try:
                outcomes[i] = f.result(timeout=120)
            except InterchangeLost as e:
                outcomes[i] = e
        failed = {i for i, v in outcomes.items() if isinstance(v, InterchangeLost)}
        assert failed == running
        # the pool finishes the two lost tries: their results reach the new interchange, and the
        # executor drops them (no result is delivered twice)
        lost_tids = {outcomes[i].task_id for i in failed}
        _wait(lambda: lost_tids <= _dropped(caplog), 60, "the late results of the lost tries")
    for i in failed:
        assert "interchange was lost" in str(outcomes[i]) and "counts as failed" in str(outcomes[i])
    assert {i: v for i, v in outcomes.items() if i not in failed} == {
        i: 2 * i for i in range(12) if i not in running
    }
    assert _dropped(caplog) == lost_tids


def _dropped(caplog) -> set[int]:
    return {r.args[0] for r in caplog.records if r.getMessage().startswith("Dropping a result for task")}


def test_past_the_restart_bound_outstanding_tasks_fail_as_before(tmp_path):
    ex = _executor(prefetch_capacity=0, interchange_restarts=1, interchange_restart_window=600)
    config = Config(executors=[ex], retries=0, run_dir=str(tmp_path), strategy="none")
    with parsl.load(config):
        _wait(lambda: _pools(ex), 60, "the worker pool")
        first = [double(i, 60) for i in range(6)]
        _wait(lambda: sum(d["tasks"] for d in _pools_full(ex)) == 2, 60, "two dispatched tasks")
        _kill_interchange(ex)  # the one restart allowed
        assert ex.bad_state_is_set is False
        _wait(lambda: _pools(ex), 60, "the pool to register again")
        second_ix = ex._ix_proc
        os.kill(second_ix.pid, signal.SIGKILL)
        _wait(lambda: ex.bad_state_is_set, 30, "the executor to give up")
        assert ex._ix_proc is second_ix  # no third interchange
        errors = []
        for f in first:
            try:
                f.result(timeout=30)
            except Exception as e:
                errors.append(e)
    assert len(errors) == 6
    assert sum(isinstance(e, InterchangeLost) for e in errors) == 2
    bad = [e for e in errors if isinstance(e, BadStateException)]
    assert len(bad) == 4
    assert "interchange_restarts=1" in str(bad[0]) and "exited unexpectedly" in str(bad[0])


def _pools_full(ex: HighThroughputExecutor) -> list[dict]:
    try:
        return ex.connected_managers()
    except Exception:
        return []


@pytest.mark.parametrize("encrypted", [True, False], ids=["curve", "plain"])
def test_tcp_pools_reconnect_to_the_new_interchange(tmp_path, encrypted):
    # address= forces TCP: the pools do not use the unix socket in the certificate directory
    ex = _executor(address="127.0.0.1", encrypted=encrypted)
    config = Config(executors=[ex], retries=1, run_dir=str(tmp_path), strategy="none")
    with parsl.load(config):
        _wait(lambda: _pools(ex), 60, "the worker pool")
        pools = _pools(ex)
        port = ex.worker_port
        futures = [double(i, 0.002) for i in range(3000)]
        _wait(lambda: ex.outstanding < 2700, 120, "the workflow to get going")
        _kill_interchange(ex)
        assert [f.result(timeout=300) for f in futures] == [2 * i for i in range(3000)]
        assert _pools(ex) == pools  # the same pool, reconnected over TCP
        assert ex.worker_port == port and ex._ix_proc.poll() is None
        assert not ex._local_pools()


def test_local_pools_reconnect_and_take_new_tasks(tmp_path):
    ex = _executor()
    config = Config(executors=[ex], retries=1, run_dir=str(tmp_path), strategy="none")
    with parsl.load(config):
        _wait(lambda: _pools(ex), 60, "the worker pool")
        pools = _pools(ex)
        assert ex._local_pools()
        assert [f.result(timeout=60) for f in [double(i) for i in range(50)]] == [2 * i for i in range(50)]
        _kill_interchange(ex)
        _wait(lambda: _pools(ex) == pools, 30, "the pool to register with the new interchange")
        assert [f.result(timeout=60) for f in [double(i) for i in range(50)]] == [2 * i for i in range(50)]


def _pool_pids(marker: str) -> set[int]:
    """Live worker pool processes whose command line holds ``marker`` (the run directory)."""
    found = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if b"process_worker_pool" in cmd and marker.encode() in cmd and state not in (b"Z", b"X"):
            found.add(int(pid))
    return found


@pytest.mark.parametrize("address", [None, "127.0.0.1"], ids=["local", "tcp"])
def test_a_pool_with_no_interchange_to_return_to_exits_after_heartbeat_threshold(tmp_path, address):
    # recovery off: the executor gives up at once, as before, and no new interchange comes
    ex = _executor(interchange_restarts=0, heartbeat_threshold=3, address=address)
    config = Config(executors=[ex], retries=0, run_dir=str(tmp_path), strategy="none")
    with parsl.load(config):
        _wait(lambda: _pools(ex), 60, "the worker pool")
        pools = _pool_pids(str(tmp_path))
        assert len(pools) == 1
        future = double(1, 30)
        _wait(lambda: sum(d["tasks"] for d in _pools_full(ex)) == 1, 60, "the task to be dispatched")
        os.kill(ex._ix_proc.pid, signal.SIGKILL)
        with pytest.raises(BadStateException, match="exited unexpectedly"):
            future.result(timeout=30)
        # it waited for a new interchange, for heartbeat_threshold (3 s), then exited on its own
        _wait(lambda: not _pool_pids(str(tmp_path)), 3 + 30, "the pool to exit")


# ------------------------------------------------------------ the dispatch file
def _ids_in(path) -> list[int]:
    from array import array

    ids = array("q")
    with open(path, "rb") as f:
        ids.frombytes(f.read())
    return list(ids)


def _kill_with_two_running_and_check_only_held_tasks_fail(ex: HighThroughputExecutor, markers) -> None:
    """Start 6 two-second tasks, SIGKILL the interchange while 2 run, and check that exactly the
    tasks the pool held fail with InterchangeLost: none it held was resubmitted (it would run
    twice), and every other one ran once on the new interchange."""
    futures = [marked(i, str(markers), 2.0) for i in range(6)]
    _wait(lambda: len(os.listdir(markers)) == 2, 60, "two running tasks")
    running = {int(name) for name in os.listdir(markers)}
    # after short tasks the pool also holds a task per worker ahead (adaptive prefetch)
    held = sum(d["tasks"] for d in _pools_full(ex))
    _kill_interchange(ex)
    failed = set()
    for i, f in enumerate(futures):
        try:
            assert f.result(timeout=120) == 2 * i
        except InterchangeLost:
            failed.add(i)
    assert running <= failed and len(failed) == held


def test_dispatches_are_recorded_in_a_file_and_never_sent_on_the_pipe(tmp_path):
    ex = _executor()
    config = Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")
    with parsl.load(config):
        assert [double(i).result(timeout=60) for i in range(30)] == [2 * i for i in range(30)]
        futures = [ex.submit(double.func, {}, i) for i in range(20)]
        assert [f.result(timeout=60) for f in futures] == [2 * i for i in range(20)]
        path = ex._dispatch_file
        assert path is not None and path.startswith(ex.ipc_dir)
        ids = _ids_in(path)
        # each task once, in the order dispatched: the 30 apps, then the 20 direct submits
        assert sorted(ids) == ids and len(ids) == len(set(ids)) == 50
    assert not ex._dispatch_log  # the executor was never woken for a dispatch
    assert not os.path.exists(path)  # removed at shutdown with the socket files


def test_a_compacted_dispatch_file_still_names_the_tasks_pools_hold(tmp_path):
    markers = tmp_path / "started"
    markers.mkdir()
    ex = _executor(prefetch_capacity=0)
    ex._dispatch_log_slack = 3  # rewrite the file every few dispatches
    config = Config(executors=[ex], retries=0, run_dir=str(tmp_path / "run"), strategy="none")
    with parsl.load(config):
        assert [double(i).result(timeout=60) for i in range(40)] == [2 * i for i in range(40)]
        assert len(_ids_in(ex._dispatch_file)) <= 3 + 2  # compacted: nothing held, a few since
        _kill_with_two_running_and_check_only_held_tasks_fail(ex, markers)


def test_an_unwritable_dispatch_file_falls_back_to_notices_on_the_pipe(tmp_path, monkeypatch, caplog):
    from parsl_executor_htex import executor as executor_module

    # a path in a directory that does not exist: the interchange cannot open it
    monkeypatch.setattr(executor_module, "DISPATCH_FILE", "no-such-dir/dispatched")
    markers = tmp_path / "started"
    markers.mkdir()
    ex = _executor(prefetch_capacity=0)
    config = Config(executors=[ex], retries=0, run_dir=str(tmp_path / "run"), strategy="none")
    with parsl.load(config):
        assert double(4).result(timeout=60) == 8
        _wait(lambda: ex._dispatch_log, 30, "a DISPATCHED notice on the pipe")
        _kill_with_two_running_and_check_only_held_tasks_fail(ex, markers)
    log = (tmp_path / "run").rglob("interchange.log")
    assert any("Cannot write the dispatch log" in p.read_text() for p in log)
