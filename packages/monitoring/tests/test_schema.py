"""The resource table, built from the sample's fields, is still Parsl's column for column; the
status table SQLite gets for a new database, and one made the way Parsl makes it."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from sqlalchemy import DateTime, Float, Integer, Text

from parsl.dataflow.states import States
from parsl_monitoring.db import RESOURCE
from parsl_monitoring.writer import DatabaseWriter

sys.path.insert(0, str(Path(__file__).parent))
from writer_fixtures import bare_task, workflow_row

# Parsl's resource table (parsl/monitoring/db_manager.py): the contract with databases Parsl
# wrote and with the notebooks and dashboards that read them.
PARSL_RESOURCE_COLUMNS = [
    ("try_id", Integer, False),
    ("task_id", Integer, False),
    ("run_id", Text, False),
    ("timestamp", DateTime, False),
    ("resource_monitoring_interval", Float, True),
    ("psutil_process_pid", Integer, True),
    ("psutil_process_memory_percent", Float, True),
    ("psutil_process_children_count", Float, True),
    ("psutil_process_time_user", Float, True),
    ("psutil_process_time_system", Float, True),
    ("psutil_process_memory_virtual", Float, True),
    ("psutil_process_memory_resident", Float, True),
    ("psutil_process_disk_read", Float, True),
    ("psutil_process_disk_write", Float, True),
    ("psutil_process_status", Text, True),
    ("psutil_cpu_num", Text, True),
    ("psutil_process_num_ctx_switches_voluntary", Float, True),
    ("psutil_process_num_ctx_switches_involuntary", Float, True),
]


def test_the_resource_table_is_parsls_column_for_column():
    ours = [(c.name, type(c.type), c.nullable) for c in RESOURCE.columns]
    assert ours == PARSL_RESOURCE_COLUMNS
    assert [c.name for c in RESOURCE.primary_key.columns] == ["try_id", "task_id", "run_id", "timestamp"]


def test_a_new_sqlite_status_table_has_no_rowid_and_a_database_made_with_one_is_still_written(tmp_path):
    def write_one(path, run_id):
        writer = DatabaseWriter(f"sqlite:///{path}", run_id)
        writer.workflow_started(workflow_row(run_id, str(tmp_path)))
        writer.start()
        task = bare_task(1, time.time())
        writer.task_changed(task, States.pending, time.time())
        writer.task_changed(task, States.launched, time.time())
        task.time_returned = time.time()
        writer.task_changed(task, States.exec_done, time.time())
        assert writer.close(30)
        db = sqlite3.connect(path)
        try:
            ddl = db.execute("SELECT sql FROM sqlite_master WHERE name = 'status'").fetchone()[0]
            rows = db.execute("SELECT task_status_name FROM status WHERE run_id = ?", (run_id,)).fetchall()
        finally:
            db.close()
        return ddl, sorted(r[0] for r in rows)

    ddl, names = write_one(tmp_path / "new.db", "new-run")
    assert "WITHOUT ROWID" in ddl.upper()
    assert names == ["exec_done", "launched", "pending"]
    # a database whose status table has a rowid (as Parsl and earlier parslcore make it)
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.execute(
        "CREATE TABLE status (task_id INTEGER NOT NULL, task_status_name TEXT NOT NULL, "
        "timestamp DATETIME NOT NULL, run_id TEXT NOT NULL, try_id INTEGER NOT NULL, "
        "PRIMARY KEY (task_id, run_id, task_status_name, timestamp))"
    )
    db.commit()
    db.close()
    ddl, names = write_one(old, "old-run")
    assert "WITHOUT ROWID" not in ddl.upper()  # left as it was
    assert names == ["exec_done", "launched", "pending"]


def _key(db: sqlite3.Connection, table: str) -> list[str]:
    """The table's primary key columns, in key order."""
    cols = [r for r in db.execute(f'PRAGMA table_info("{table}")') if r[5]]
    return [r[1] for r in sorted(cols, key=lambda r: r[5])]


def test_new_keys_start_with_the_run_and_a_database_with_parsls_key_order_is_still_written(tmp_path):
    def write_one(path, run_id):
        writer = DatabaseWriter(f"sqlite:///{path}", run_id, hold_rows=0)
        writer.workflow_started(workflow_row(run_id, str(tmp_path)))
        writer.start()
        for tid in range(3):
            task = bare_task(tid, time.time())
            writer.task_changed(task, States.pending, time.time())
            writer.task_changed(task, States.launched, time.time())
            task.time_returned = time.time()
            writer.task_changed(task, States.exec_done, time.time())
        assert writer.close(30)
        return sqlite3.connect(path)

    db = write_one(tmp_path / "new.db", "new-run")
    try:
        # one b-tree per status row: its key, which the dashboard's per-run queries use too
        assert _key(db, "status") == ["run_id", "task_id", "task_status_name", "timestamp"]
        assert _key(db, "task") == ["run_id", "task_id"]
        assert _key(db, "try") == ["run_id", "task_id", "try_id"]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert not {"status_run_task", "try_run"} & indexes
        plan = " ".join(
            r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM status WHERE run_id = 'new-run'")
        )
        assert "SEARCH" in plan.upper() and "PRIMARY KEY" in plan.upper()  # not a scan
        assert db.execute("SELECT count(*) FROM status").fetchone()[0] == 9
    finally:
        db.close()
    # Parsl's own key order (task id first), as Parsl and earlier parslcore made the tables
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.execute(
        "CREATE TABLE task (task_id INTEGER NOT NULL, run_id TEXT NOT NULL, task_depends TEXT, "
        "task_func_name TEXT NOT NULL, task_memoize TEXT NOT NULL, task_hashsum TEXT, task_inputs TEXT, "
        "task_outputs TEXT, task_stdin TEXT, task_stdout TEXT, task_stderr TEXT, "
        "task_time_invoked DATETIME, task_time_returned DATETIME, task_fail_count INTEGER NOT NULL, "
        "task_fail_cost FLOAT NOT NULL, PRIMARY KEY (task_id, run_id))"
    )
    db.execute(
        "CREATE TABLE try (try_id INTEGER NOT NULL, task_id INTEGER NOT NULL, run_id TEXT NOT NULL, "
        "block_id TEXT, hostname TEXT, task_executor TEXT NOT NULL, task_try_time_launched DATETIME, "
        "task_try_time_running DATETIME, task_try_time_returned DATETIME, task_fail_history TEXT, "
        "task_joins TEXT, PRIMARY KEY (try_id, task_id, run_id))"
    )
    db.commit()
    db.close()
    db = write_one(old, "old-run")
    try:
        assert _key(db, "task") == ["task_id", "run_id"]  # left as it was
        assert db.execute("SELECT count(*) FROM task WHERE task_time_returned IS NOT NULL").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM try").fetchone()[0] == 3
    finally:
        db.close()
