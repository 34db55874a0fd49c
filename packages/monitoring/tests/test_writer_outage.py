"""The monitoring writer loses no row while its database cannot be written.

The SQLite database is made unwritable for real: its file and its WAL are made immutable
(``chattr +i``; the tests run as root, whom a plain chmod does not stop), and every test checks
that a write really fails. The shared-memory file is left alone: SQLite maps it, and an
immutable mapping kills the process with SIGBUS. PostgreSQL is stopped and started for real in
``test_writer_outage_postgres.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.states import States
from parsl.dataflow.taskrecord import TaskRecord
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl_monitoring import spill, writer
from parsl_monitoring.writer import DatabaseWriter

sys.path.insert(0, str(Path(__file__).parent))
from writer_fixtures import bare_task

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="makes files immutable with chattr (root, Linux)"
)


@python_app
def inc(x):
    return x + 1


def _chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@contextlib.contextmanager
def unwritable(db: Path):
    """``db`` (an SQLite database in WAL mode) cannot be written inside the block."""
    files = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    _chattr("+i", *files)
    try:
        with pytest.raises(sqlite3.OperationalError), sqlite3.connect(db, timeout=0.1) as c:
            c.execute("create table probe (x)")
        yield
    finally:
        _chattr("-i", *files)


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def count(db: Path, sql: str, *args) -> int:
    """The query's count; 0 while the writer process has not made the table yet."""
    with contextlib.closing(sqlite3.connect(db)) as c:
        try:
            return c.execute(sql, args).fetchone()[0]
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
            return 0


class Feed:
    """Events for a writer, as the hub queues them: tasks that go pending, launched, done."""

    def __init__(self, w: DatabaseWriter, run_dir: Path) -> None:
        self.w = w
        self.run_id = w.run_id
        self._clock = itertools.count()
        self._t0 = time.time()
        w.workflow_started(
            {
                "run_id": self.run_id,
                "workflow_name": "outage",
                "workflow_version": "1",
                "time_began": self._t0,
                "time_completed": None,
                "host": "h",
                "user": "u",
                "rundir": str(run_dir),
                "tasks_failed_count": 0,
                "tasks_completed_count": 0,
            }
        )

    def now(self) -> float:
        return self._t0 + next(self._clock) * 0.001

    def task(self, tid: int) -> TaskRecord:
        return bare_task(tid, self.now())

    def state(self, task: TaskRecord, state: States) -> None:
        task.status = state
        if state is States.exec_done:
            task.time_returned = self.now()
        self.w.events.append((task, state, self.now(), task.try_id, task.depends))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "monitoring.db"


def new_writer(db: Path, run_dir: Path, **kwargs) -> tuple[DatabaseWriter, Feed]:
    kwargs.setdefault("hold_rows", 0)  # each flush writes what it has: the tests count its rows
    w = DatabaseWriter(f"sqlite:///{db}", f"outage-{uuid.uuid4()}", **kwargs)
    feed = Feed(w, run_dir)
    w._flush()  # the workflow row: the database and its WAL exist from here
    assert w.rows_written == 1
    return w, feed


def test_rows_past_the_memory_bound_are_spilled_and_all_replayed_in_order(db, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(writer, "RETRY_DELAY", 0.0)
    monkeypatch.setattr(writer, "MAX_RETRY_DELAY", 0.0)
    run_dir = tmp_path / "run"
    w, feed = new_writer(db, run_dir, max_buffered_rows=10)
    tasks = [feed.task(i) for i in range(30)]
    caplog.set_level(logging.INFO, logger="parsl.monitoring")
    with unwritable(db):
        # each task in three batches: its insert, then its launch, then its final update
        for state in (States.pending, States.launched, States.exec_done):
            for t in tasks:
                feed.state(t, state)
                if t.id % 5 == 4:
                    w._flush()
        assert w.backlog is not None
        assert w.backlog.memory_rows <= 10  # the bound
        assert w.backlog.file_rows > w.backlog.memory_rows  # the rest went to the file
        path = Path(w.backlog.path)
        assert path.parent == run_dir and path.name == f"monitoring-spill-{w.run_id}.pkl"
        assert path.stat().st_size > 0
        held = w.backlog.rows
        assert held == 30 * 3 + 30 * 2 + 30 * 2  # status rows, task and try inserts and updates
        assert w.rows_written == 1 and w.batches_failed == 0
    w._flush()  # the database is back: everything held back is written, oldest first
    assert not w.backlog and not path.exists()
    assert w.rows_written == 1 + held and w.batches_failed == 0
    assert count(db, "select count(*) from task where task_time_returned is not null") == 30
    assert count(db, "select count(*) from try where task_try_time_returned is not null") == 30
    assert count(db, "select count(*) from status") == 90
    outage_logs = [r for r in caplog.records if r.name.startswith("parsl.monitoring")]
    assert [r.levelname for r in outage_logs if "cannot write" in r.getMessage()] == ["WARNING"]
    assert [r.levelname for r in outage_logs if "written again" in r.getMessage()] == ["INFO"]
    w.engine.dispose()


def test_a_database_that_never_comes_back_leaves_a_spill_file_the_command_loads(db, tmp_path, caplog):
    run_dir = tmp_path / "run"
    w, feed = new_writer(db, run_dir, max_buffered_rows=20)
    w.start()
    tasks = [feed.task(i) for i in range(40)]
    with caplog.at_level(logging.WARNING, logger="parsl.monitoring"), unwritable(db):
        for t in tasks:
            feed.state(t, States.pending)
        wait_for(lambda: w.backlog and w.backlog.rows >= 80, "the writer to hold the rows back")
        for t in tasks:
            feed.state(t, States.launched)
            feed.state(t, States.exec_done)
        w.workflow_finished(
            {"time_completed": time.time(), "tasks_completed_count": 40, "tasks_failed_count": 0}
        )
        assert w.close(60)
        spill_file = Path(w.spill_file)
        assert spill_file.exists() and spill_file.parent == run_dir
        assert f"parsl-monitoring-replay {spill_file}" in caplog.text
        assert count(db, "select count(*) from task") == 0
    w.engine.dispose()
    # the console script the warning names, installed next to this Python
    command = Path(sys.executable).with_name("parsl-monitoring-replay")
    assert command.exists(), "parsl-monitoring-replay is not installed: reinstall parsl-monitoring"
    result = subprocess.run([str(command), str(spill_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "rows written" in result.stdout and not spill_file.exists()
    assert count(db, "select count(*) from task where task_time_returned is not null") == 40
    assert count(db, "select count(*) from try where task_try_time_returned is not null") == 40
    assert count(db, "select count(*) from status") == 120
    assert count(db, "select tasks_completed_count from workflow where time_completed is not null") == 40


def test_the_replay_command_keeps_the_file_while_the_database_cannot_be_written(db, tmp_path):
    run_dir = tmp_path / "run"
    w, feed = new_writer(db, run_dir, max_buffered_rows=0)
    with unwritable(db):
        feed.state(feed.task(0), States.pending)
        w._flush()
        w._leave_backlog()
        spill_file = Path(w.spill_file)
        w.engine.dispose()
        result = subprocess.run(
            [sys.executable, "-m", "parsl_monitoring.replay", str(spill_file)], capture_output=True, text=True
        )
        assert result.returncode == 1 and "could not write to the database" in result.stderr
        assert spill_file.exists()
    other = tmp_path / "elsewhere.db"
    result = subprocess.run(
        [sys.executable, "-m", "parsl_monitoring.replay", str(spill_file), "--url", f"sqlite:///{other}"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert count(other, "select count(*) from task") == 1 and count(db, "select count(*) from task") == 0


def test_a_record_cut_short_by_a_crash_ends_the_file(tmp_path):
    backlog = spill.Backlog(str(tmp_path / "s.pkl"), 0, {"run_id": "r", "url": "sqlite://"})
    for i in range(3):
        backlog.add({"status": [(i, "pending", 1.5 + i, "r", 0)]})
    backlog.close()
    whole = (tmp_path / "s.pkl").read_bytes()
    (tmp_path / "s.pkl").write_bytes(whole[:-3])  # the last append was cut short
    header, batches, leftover = spill.read_spill(str(tmp_path / "s.pkl"))
    assert header["run_id"] == "r"
    assert [b["status"][0][0] for b in batches] == [0, 1]
    assert leftover[0] > 0
    (tmp_path / "other").write_bytes(b"not a spill file")
    with pytest.raises(spill.SpillFileError, match="not a monitoring spill file"):
        spill.read_spill(str(tmp_path / "other"))


def test_sqlite_made_read_only_mid_run_loses_no_task_row(tmp_path, caplog):
    run_dir = tmp_path / "runinfo"
    config = Config(executors=[ThreadPoolExecutor()], monitoring=MonitoringHub(), run_dir=str(run_dir))
    db = run_dir / "monitoring.db"
    with caplog.at_level(logging.INFO, logger="parsl.monitoring"), parsl.load(config) as dfk:
        hub = config.monitoring
        assert [f.result() for f in [inc(i) for i in range(50)]] == list(range(1, 51))
        wait_for(lambda: db.exists() and count(db, "select count(*) from task") == 50, "the first rows")
        with unwritable(db):
            assert [f.result() for f in [inc(i) for i in range(50, 150)]] == list(range(51, 151))
            w = hub._writer
            wait_for(lambda: w.stats.get("backlog_rows", 0) > 0, "the writer (process) to hold rows back")
            assert count(db, "select count(*) from task") == 50
        assert [f.result() for f in [inc(i) for i in range(150, 200)]] == list(range(151, 201))
        run_id = dfk.run_id
        spill_file = Path(w.stats["spill_path"])
    assert not spill_file.exists()
    assert count(db, "select count(*) from task where run_id=?", run_id) == 200
    assert (
        count(db, "select count(*) from task where run_id=? and task_time_returned is not null", run_id)
        == 200
    )
    assert (
        count(db, "select count(*) from try where run_id=? and task_try_time_returned is not null", run_id)
        == 200
    )
    assert (
        count(db, "select count(*) from status where run_id=? and task_status_name='exec_done'", run_id)
        == 200
    )
    assert "cannot write to its database" in caplog.text and "written again" in caplog.text


def test_a_database_locked_for_long_is_caught_up_once_released(db, tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "SQLITE_BUSY_TIMEOUT", 0.2)  # read when the writer connects
    monkeypatch.setattr(writer, "RETRY_DELAY", 0.0)
    w, feed = new_writer(db, tmp_path / "run")
    tasks = [feed.task(i) for i in range(20)]
    locker = sqlite3.connect(db, timeout=0.1, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another writer holds the lock, as long as it likes
    try:
        for t in tasks:
            feed.state(t, States.pending)
        w._flush()
        assert w.backlog and w.backlog.rows == 40
        for t in tasks:
            feed.state(t, States.launched)
            feed.state(t, States.exec_done)
        w._flush()  # a retry that fails again; the new batch is kept after the first
        assert w.backlog.rows > 40 and w._busy_timeout == writer.OUTAGE_BUSY_TIMEOUT
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    w._flush()
    assert not w.backlog and w.batches_failed == 0
    assert count(db, "select count(*) from task where task_time_returned is not null") == 20
    assert count(db, "select count(*) from try where task_try_time_returned is not null") == 20
    feed.state(feed.task(20), States.pending)
    w._flush()
    assert w._busy_timeout == writer.SQLITE_BUSY_TIMEOUT  # back to the patient timeout
    w.engine.dispose()


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A tmpfs of ``size`` mounted on ``path`` (skips where mounting is not allowed)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` up; the file doing it."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as f:
        while True:
            f.write(b"\0")
    return filler


def test_a_full_disk_holds_rows_back_until_space_is_freed(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "RETRY_DELAY", 0.0)
    with small_disk(tmp_path / "disk", "32m") as disk:
        db = disk / "monitoring.db"
        w, feed = new_writer(db, tmp_path / "run")
        filler = fill(disk)
        tasks = [feed.task(i) for i in range(3000)]
        for t in tasks:
            feed.state(t, States.pending)
        w._flush()
        assert w.backlog and w.backlog.rows == 6000  # the disk is full: nothing was written
        assert count(db, "select count(*) from task") == 0
        for t in tasks:
            feed.state(t, States.launched)
            feed.state(t, States.exec_done)
        w._flush()
        assert w.backlog.rows > 6000
        filler.unlink()
        w._flush()
        assert not w.backlog and w.batches_failed == 0, w._last_error
        assert count(db, "select count(*) from task where task_time_returned is not null") == 3000
        assert count(db, "select count(*) from status") == 9000
        w.engine.dispose()


_KILLED_WORKFLOW = """
import sys, time
from parsl_monitoring.writer import DatabaseWriter

url, run_id, run_dir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
w = DatabaseWriter(url, run_id, max_buffered_rows=0)
w.workflow_started({"run_id": run_id, "workflow_name": "killed", "workflow_version": "1",
    "time_began": time.time(), "time_completed": None, "host": "h", "user": "u",
    "rundir": run_dir, "tasks_failed_count": 0, "tasks_completed_count": 0})
w._flush()
print("ready", flush=True)
sys.stdin.readline()  # the database is made unwritable now
for i in range(n):
    w.events.append(("messages", None, [{"type": "resource", "run_id": run_id, "task_id": i,
        "try_id": 0, "timestamp": time.time(), "psutil_process_pid": 1000 + i}]))
    w._flush()
print("spilled", w.backlog.file_rows, flush=True)
time.sleep(600)
"""


def test_a_workflow_killed_during_an_outage_leaves_what_it_spilled_loadable(db, tmp_path):
    run_dir, run_id = tmp_path / "run", f"killed-{uuid.uuid4()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WORKFLOW, f"sqlite:///{db}", run_id, str(run_dir), "50"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with unwritable(db):
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.stdout.readline().split() == ["spilled", "50"]
            proc.kill()  # SIGKILL: no shutdown, the file is as the appends left it
            proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    (spill_file,) = run_dir.glob("monitoring-spill-*.pkl")
    result = subprocess.run(
        [sys.executable, "-m", "parsl_monitoring.replay", str(spill_file)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert count(db, "select count(*) from resource where run_id = ?", run_id) == 50
    assert count(db, "select count(distinct psutil_process_pid) from resource where run_id = ?", run_id) == 50


def test_a_spill_file_on_a_full_disk_keeps_the_rows_in_memory_instead(tmp_path, caplog):
    with small_disk(tmp_path / "disk", "1m") as disk:
        backlog = spill.Backlog(str(disk / "run" / "s.pkl"), 0, {"run_id": "r", "url": "sqlite://"})
        backlog.add({"status": [(0, "pending", 1.5, "r", 0)]})
        assert backlog.file_rows == 1
        filler = fill(disk)
        big = {"status": [(i, "pending", 1.5, "r", 0) for i in range(1, 20001)]}
        backlog.add(big)  # the append fails: kept in memory, and the file holds no half record
        # more than the slack of the file's last page
        backlog.add({"status": [(i, "pending", 1.5, "r", 0) for i in range(20001, 21001)]})
        assert (backlog.memory_rows, backlog.file_rows) == (21000, 1)
        assert caplog.text.count("cannot write its spill file") == 1
        filler.unlink()
        backlog.add({"status": [(21001, "pending", 1.5, "r", 0)]})  # room again: to the file
        assert backlog.file_rows == 2
        seen = []
        while backlog:
            seen += [row[0] for row in backlog.peek()["status"]]
            backlog.pop()
        assert seen == list(range(21002))  # every row, in the order added
        assert not (disk / "run" / "s.pkl").exists()
