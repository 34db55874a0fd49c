"""The monitoring writer runs in a process of its own: every row arrives, and no failure of one
process hangs or orphans the other.

Real processes throughout: the writer process is SIGKILLed under a running workflow, and a
workflow process is SIGKILLed under its writer process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.dataflow.taskrecord import TaskRecord
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl_monitoring.task_values import task_snapshot, task_values
from parsl_monitoring.writer_process import WriterProcess

sys.path.insert(0, str(Path(__file__).parent))
from writer_fixtures import workflow_row


@python_app
def inc(x):
    return x + 1


def count(db: Path, sql: str, *args) -> int:
    with contextlib.closing(sqlite3.connect(db)) as c:
        try:
            return c.execute(sql, args).fetchone()[0]
        except sqlite3.OperationalError as e:  # the writer process has not made its tables yet
            if "no such table" not in str(e):
                raise
            return 0


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie nobody reaped has exited too)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_every_row_is_written_after_a_normal_run_and_the_writer_process_exits(tmp_path):
    run_dir = tmp_path / "runinfo"
    hub = MonitoringHub()
    config = Config(executors=[ThreadPoolExecutor(max_threads=2)], monitoring=hub, run_dir=str(run_dir))
    n = 500
    with parsl.load(config) as dfk:
        assert [f.result() for f in [inc(i) for i in range(n)]] == list(range(1, n + 1))
        writer = hub._writer
        assert writer is not None and writer.pid != os.getpid()
        run_id = dfk.run_id
    assert writer.proc.poll() == 0  # cleanup waited for it
    db = run_dir / "monitoring.db"
    q = "select count(*) from {} where run_id = ? {}"
    assert count(db, q.format("task", "and task_time_returned is not null"), run_id) == n
    assert (
        count(db, q.format("try", "and task_try_time_returned is not null and hostname is not null"), run_id)
        == n
    )
    for state in ("pending", "launched", "running", "running_ended", "exec_done"):
        assert count(db, q.format("status", "and task_status_name = ?"), run_id, state) == n, state
    assert (
        count(
            db,
            q.format("workflow", "and time_completed is not null and tasks_completed_count = ?"),
            run_id,
            n,
        )
        == 1
    )


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_writer_process_is_logged_and_the_workflow_completes(tmp_path, caplog, sig):
    run_dir = tmp_path / "runinfo"
    hub = MonitoringHub()
    config = Config(executors=[ThreadPoolExecutor(max_threads=2)], monitoring=hub, run_dir=str(run_dir))
    with caplog.at_level(logging.INFO, logger="parsl.monitoring"), parsl.load(config) as dfk:
        assert [f.result() for f in [inc(i) for i in range(20)]] == list(range(1, 21))
        wait_for(
            lambda: count(run_dir / "monitoring.db", "select count(*) from task") == 20, "the first rows"
        )
        writer = dfk.monitoring.dbm_proc  # Parsl's name for it
        assert writer is hub._writer and writer.is_alive()
        os.kill(writer.pid, sig)
        wait_for(lambda: hub._writer is None, "the hub to notice its writer process died")
        assert not writer.is_alive()
        # the workflow goes on, and nothing piles up in the lost writer's queues
        assert [f.result() for f in [inc(i) for i in range(20, 220)]] == list(range(21, 221))
        assert not writer.events and not writer.packed and not writer.new_tasks
        assert dfk.tasks_completed_count == 220
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"writer process (pid {writer.pid}) " in m for m in errors), errors
    if sig == signal.SIGKILL:
        assert any("was killed by signal 9" in m for m in errors), errors


_WORKFLOW = textwrap.dedent(
    """
    import sys, time
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    from parsl.monitoring import MonitoringHub

    @python_app
    def inc(x):
        return x + 1

    hub = MonitoringHub()
    parsl.load(Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=sys.argv[1]))
    assert [f.result() for f in [inc(i) for i in range(30)]] == list(range(1, 31))
    time.sleep(1)  # the batch is sent
    print(hub._writer.pid, flush=True)
    time.sleep(600)
    """
)


def test_the_writer_process_exits_when_the_workflow_process_is_killed(tmp_path):
    run_dir = tmp_path / "runinfo"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKFLOW, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(proc.stdout.readline())
        assert psutil.Process(pid).ppid() == proc.pid
        proc.kill()  # SIGKILL: no cleanup, no atexit
        proc.wait(30)
        wait_for(lambda: gone(pid), f"the writer process {pid} to exit", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    # what it had been sent is written before it exits
    assert (
        count(run_dir / "monitoring.db", "select count(*) from task where task_time_returned is not null")
        == 30
    )


def test_a_snapshot_holds_plain_values_only(tmp_path):
    task = TaskRecord(
        id=7,
        func=print,
        func_name="f",
        args=(),
        kwargs={"outputs": [File(str(tmp_path / "out"))], "stdout": str(tmp_path / "log"), "inputs": []},
        executor="threads",
        retries_left=0,
        memoize=True,
        ignore_for_cache=[],
        join=False,
        time_invoked=time.time(),
        dfk=None,  # type: ignore[arg-type]
        resource_specification={},
    )
    task.fail_history = [ValueError("boom")]
    snap = task_snapshot(task, None)
    assert all(v is None or type(v) in (str, int, float) for v in snap), snap
    # the writer reads the same row from the snapshot as from the record
    assert task_values(snap, None) == task_values(task, None)


def test_a_plain_tasks_snapshot_is_short_and_reads_as_the_same_row(tmp_path):
    from writer_fixtures import bare_task

    from parsl_monitoring.task_values import executor_of, record_return

    task = bare_task(8, time.time(), executor="htex")
    task.time_returned = time.time()
    snap = task_snapshot(task, None)
    assert len(snap) == 8 and all(v is None or type(v) in (str, int, float, bool) for v in snap), snap
    assert task_values(snap, None) == task_values(task, None)
    assert executor_of(snap) == executor_of(task) == "htex"
    from_snap, from_record = {}, {}
    record_return(from_snap, snap, 1.5)
    record_return(from_record, task, 1.5)
    assert from_snap == from_record == {"task_try_time_returned": 1.5}
    # a failed try makes it the long one, with the history as text
    task.fail_history = ["ValueError('x')"]
    assert len(task_snapshot(task, None)) == 16


def test_a_task_waiting_for_its_dependency_is_recorded_with_it(tmp_path):
    """The kernel sets a task's dependencies just after its pending event; a batch sent while
    it waits must still name them (it used to record '' for a task that was not launched yet)."""

    @python_app
    def slow():
        import time

        time.sleep(1.0)
        return 1

    run_dir = tmp_path / "runinfo"
    config = Config(executors=[ThreadPoolExecutor()], monitoring=MonitoringHub(), run_dir=str(run_dir))
    with parsl.load(config):
        first = slow()
        second = inc(first)
        third = inc(second)
        assert third.result() == 3
    with contextlib.closing(sqlite3.connect(run_dir / "monitoring.db")) as c:
        rows = dict(c.execute("select task_id, task_depends from task").fetchall())
    assert rows == {first.tid: "", second.tid: str(first.tid), third.tid: str(second.tid)}


def test_the_writer_process_outlives_a_closed_report_stream(tmp_path):
    """Its reports hit a closed pipe (the workflow process was killed before the writer saw the
    end of its input): the writer still writes what it was sent, then exits on its own."""

    from parsl_monitoring.writer_main import encode_frame

    db = tmp_path / "m.db"
    settings = {"url": f"sqlite:///{db}", "run_id": "r1", "workflow": workflow_row("r1", str(tmp_path))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "parsl_monitoring.writer_main"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdout.close()  # nobody reads its reports: the first one meets EPIPE
    proc.stdin.write(encode_frame(("start", settings)))
    proc.stdin.flush()
    time.sleep(1.5)  # a few stats periods: the main loop reports (into the closed pipe)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    proc.stdin.close()  # the end of its input, as when the workflow process dies
    assert proc.wait(30) == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert count(db, "select count(*) from workflow where run_id = 'r1'") == 1


def test_start_returns_once_the_writer_process_has_its_database_open(tmp_path):
    db = tmp_path / "monitoring.db"
    writer = WriterProcess(f"sqlite:///{db}", "ready-run")
    writer.workflow_started(workflow_row("ready-run", str(tmp_path)))
    writer.start()
    try:
        # its startup (Python, SQLAlchemy, the tables) is over before the first task is queued
        assert writer.ready.is_set() and writer.is_alive()
        with contextlib.closing(sqlite3.connect(db)) as c:
            tables = {r[0] for r in c.execute("select name from sqlite_master where type = 'table'")}
        assert {"workflow", "task", "try", "status", "resource", "node", "block"} <= tables
    finally:
        assert writer.close(30)
