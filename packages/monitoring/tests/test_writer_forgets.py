"""The monitoring writer forgets a task once it is final, and still writes what comes after.

The writer runs its batches here by calling ``_flush()`` (what its thread does every period),
so each test decides exactly which events share a batch: a worker's ``running`` message before
the kernel's launch event, resource samples after the task's final state, a retry's late
message. Each test runs on SQLite and, when the server is up, on PostgreSQL.
"""

from __future__ import annotations

import itertools
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from parsl.dataflow.states import States
from parsl.dataflow.taskrecord import TaskRecord
from parsl_monitoring.writer import DatabaseWriter

sys.path.insert(0, str(Path(__file__).parent))
from writer_fixtures import bare_task


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/monitoring.db"
    return request.getfixturevalue("postgres_url")


class _Run:
    """One workflow's writer, fed the events the hub would queue."""

    def __init__(self, url: str) -> None:
        self.run_id = f"forget-{uuid.uuid4()}"
        # hold_rows=0: each flush writes what it has, so a test decides what one batch holds
        self.writer = DatabaseWriter(url, self.run_id, hold_rows=0)
        self._clock = itertools.count()
        self._t0 = time.time()
        self.writer.workflow_started(
            {
                "run_id": self.run_id,
                "workflow_name": "forget",
                "workflow_version": "1",
                "time_began": self._t0,
                "time_completed": None,
                "host": "h",
                "user": "u",
                "rundir": "/tmp",
                "tasks_failed_count": 0,
                "tasks_completed_count": 0,
            }
        )

    def now(self) -> float:
        return self._t0 + next(self._clock) * 0.001

    def task(self, tid: int) -> TaskRecord:
        return bare_task(tid, self.now(), executor="htex", retries_left=1)

    def state(self, task: TaskRecord, state: States) -> None:
        task.status = state
        if state in (States.exec_done, States.failed):
            task.time_returned = self.now()
        self.writer.task_changed(task, state, self.now())

    def worker(self, kind: str, tid: int, try_id: int) -> None:
        msg = {"type": kind, "run_id": self.run_id, "task_id": tid, "try_id": try_id, "timestamp": self.now()}
        if kind == "task_running":
            msg.update(hostname="node-1", block_id="0")
        if kind == "resource":
            msg.update(psutil_process_pid=42, psutil_process_memory_resident=1.0)
        self.writer.events.append(("messages", "htex", [msg]))

    def flush(self) -> None:
        self.writer._flush()
        assert self.writer.batches_failed == 0

    def rows(self, table: str) -> list[dict]:
        with self.writer.engine.connect() as c:
            result = c.execute(sa.text(f'SELECT * FROM "{table}" WHERE run_id = :r'), {"r": self.run_id})
            return [dict(r._mapping) for r in result]

    def try_row(self, tid: int, try_id: int) -> dict:
        rows = [r for r in self.rows("try") if (r["task_id"], r["try_id"]) == (tid, try_id)]
        assert len(rows) == 1, rows
        return rows[0]

    def remembers_nothing(self) -> bool:
        w = self.writer
        return not (w._live or w._try_rows or w._held_tasks or w._held_tries)

    def batches(self) -> list[dict]:
        """Record every batch the writer writes from now on (its parts, before the database)."""
        seen: list[dict] = []
        write = self.writer._write

        def spy(batch):
            seen.append({k: list(v) for k, v in batch.items() if v})
            write(batch)

        self.writer._write = spy
        return seen


@pytest.fixture
def run(url):
    r = _Run(url)
    yield r
    r.writer.engine.dispose()


def test_messages_after_the_final_state_update_the_try_row(run):
    t = run.task(0)
    run.state(t, States.pending)
    run.state(t, States.launched)
    run.flush()
    run.state(t, States.exec_done)
    run.flush()
    assert run.remembers_nothing()
    # the worker's messages arrive after the result: an update of the row, a status, a sample
    run.worker("task_running", 0, 0)
    run.worker("task_running_ended", 0, 0)
    run.worker("resource", 0, 0)
    run.flush()
    assert run.remembers_nothing()
    row = run.try_row(0, 0)
    assert row["task_executor"] == "htex" and row["hostname"] == "node-1" and row["block_id"] == "0"
    assert row["task_try_time_launched"] and row["task_try_time_running"] and row["task_try_time_returned"]
    assert sorted(r["task_status_name"] for r in run.rows("status")) == sorted(
        ["pending", "launched", "exec_done", "running", "running_ended"]
    )
    assert [(r["task_id"], r["try_id"], r["psutil_process_pid"]) for r in run.rows("resource")] == [
        (0, 0, 42)
    ]
    (task,) = run.rows("task")
    assert task["task_time_returned"] is not None


def test_a_running_message_before_the_launch_waits_for_it(run):
    t = run.task(0)
    run.state(t, States.pending)
    run.worker("task_running", 0, 0)  # the kernel marks the task launched after submit returns
    run.flush()
    assert run.rows("try") == []
    run.state(t, States.launched)
    run.flush()
    row = run.try_row(0, 0)
    assert row["task_executor"] == "htex" and row["hostname"] == "node-1"
    run.state(t, States.exec_done)
    run.flush()
    assert run.try_row(0, 0)["task_try_time_returned"] is not None
    assert run.remembers_nothing()


def test_retries_keep_each_try_and_late_messages_find_their_own(run):
    t = run.task(0)
    run.state(t, States.pending)
    run.state(t, States.launched)
    run.flush()
    t.fail_count, t.fail_cost, t.fail_history = 1, 1.0, ["ValueError('x')"]
    run.state(t, States.fail_retryable)
    t.try_id = 1
    run.state(t, States.pending)
    run.worker("task_running", 0, 1)  # try 1 runs before its launch event is queued
    run.flush()
    assert run.writer._live == {0: 0}
    run.state(t, States.launched)
    run.worker("task_running", 0, 0)  # try 0's message, late
    run.flush()
    run.state(t, States.exec_done)
    run.flush()
    assert run.remembers_nothing()
    first, second = run.try_row(0, 0), run.try_row(0, 1)
    assert first["hostname"] == "node-1" and first["task_fail_history"] == "ValueError('x')"
    assert first["task_try_time_returned"] is not None
    assert second["hostname"] == "node-1" and second["task_try_time_returned"] is not None
    (task,) = run.rows("task")
    assert task["task_fail_count"] == 1


def test_a_task_within_one_batch_is_inserted_with_its_final_values(run):
    t = run.task(0)
    run.state(t, States.pending)
    run.state(t, States.launched)
    run.worker("task_running", 0, 0)
    run.state(t, States.exec_done)
    run.flush()
    assert run.remembers_nothing()
    (task,) = run.rows("task")
    assert task["task_time_returned"] is not None
    assert run.try_row(0, 0)["task_try_time_returned"] is not None


def test_a_task_that_never_launched_gets_no_try_row(run):
    t = run.task(0)
    run.state(t, States.pending)
    run.flush()
    run.state(t, States.dep_fail)
    run.flush()
    assert run.remembers_nothing()
    assert run.rows("try") == [] and len(run.rows("task")) == 1


def test_what_the_writer_keeps_is_the_unfinished_tasks_only(run):
    n = 2000
    tasks = [run.task(i) for i in range(n)]
    for lo in range(0, n, 500):  # tasks overlap batches: submitted in one, finished in the next
        for t in tasks[lo : lo + 500]:
            run.state(t, States.pending)
            run.state(t, States.launched)
        run.flush()
        for t in tasks[lo : lo + 500]:
            if t.id != 7:
                run.worker("task_running", t.id, 0)
                run.state(t, States.exec_done)
                run.worker("resource", t.id, 0)
        run.flush()
    assert run.writer._live == {7: 0}  # the one task still running
    assert not run.writer._try_rows
    assert len(run.rows("task")) == n and len(run.rows("try")) == n
    assert len(run.rows("resource")) == n - 1
    assert sum(r["task_try_time_running"] is not None for r in run.rows("try")) == n - 1


def test_a_task_that_ends_within_the_hold_is_one_insert_with_no_update(run):
    run.writer.hold_rows = 60.0
    batches = run.batches()
    t = run.task(0)
    run.state(t, States.pending)
    run.state(t, States.launched)
    run.flush()
    # its status rows are written at once; its task and try rows wait for it to end
    assert sorted(r["task_status_name"] for r in run.rows("status")) == ["launched", "pending"]
    assert run.rows("task") == [] and run.rows("try") == []
    run.worker("task_running", 0, 0)
    run.flush()
    assert run.rows("try") == []
    run.state(t, States.exec_done)
    run.flush()
    assert run.remembers_nothing()
    (task,) = run.rows("task")
    assert task["task_time_returned"] is not None and task["task_func_name"] == "f"
    row = run.try_row(0, 0)
    assert row["task_executor"] == "htex" and row["hostname"] == "node-1"
    assert row["task_try_time_launched"] and row["task_try_time_running"] and row["task_try_time_returned"]
    parts = [p for b in batches for p in b]
    assert parts.count("task_insert") == 1 and parts.count("try_insert") == 1
    assert "task_update" not in parts and "try_update" not in parts


def test_a_task_running_past_the_hold_is_written_then_updated(run):
    run.writer.hold_rows = 0.05
    t = run.task(0)
    run.state(t, States.pending)
    run.state(t, States.launched)
    run.flush()
    assert run.rows("task") == []
    time.sleep(0.1)
    run.flush()  # nothing new for it, but it has waited long enough: its rows as they are now
    (task,) = run.rows("task")
    assert task["task_time_returned"] is None
    assert run.try_row(0, 0)["task_try_time_returned"] is None
    run.worker("task_running", 0, 0)
    run.state(t, States.exec_done)
    run.flush()
    assert run.remembers_nothing()
    (task,) = run.rows("task")
    assert task["task_time_returned"] is not None
    row = run.try_row(0, 0)
    assert row["hostname"] == "node-1" and row["task_try_time_returned"] is not None


def test_rows_still_held_at_shutdown_are_written(run):
    run.writer.hold_rows = 60.0
    tasks = [run.task(i) for i in range(3)]
    for t in tasks:
        run.state(t, States.pending)
        run.state(t, States.launched)
    run.state(tasks[0], States.exec_done)
    run.writer.start()
    assert run.writer.close(30)
    assert sorted(r["task_id"] for r in run.rows("task")) == [0, 1, 2]
    assert sorted(r["task_id"] for r in run.rows("try")) == [0, 1, 2]
    assert [r["task_id"] for r in run.rows("task") if r["task_time_returned"] is not None] == [0]


def test_a_driverless_postgresql_url_uses_the_installed_driver():
    """``postgresql://`` means psycopg2 to SQLAlchemy 2.0 (Python 3.10's newest) and psycopg to
    2.1: with psycopg alone installed, the monitoring database URL still works on either."""
    from importlib.util import find_spec

    from parsl_monitoring.db import with_installed_driver

    url = with_installed_driver("postgresql://u:p@h/db")
    if find_spec("psycopg2") is None and find_spec("psycopg") is not None:
        assert url.drivername == "postgresql+psycopg"
    else:
        assert url.drivername == "postgresql"
    assert with_installed_driver("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg2"
    assert with_installed_driver("sqlite:///x.db").drivername == "sqlite"
