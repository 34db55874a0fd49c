"""The one thread that writes a workflow's monitoring rows, in batches.

It runs in the monitoring writer process (:mod:`parsl_monitoring.writer_main`), fed by the
workflow process (:mod:`parsl_monitoring.writer_process`); it can also run in-process, as the
tests drive it.

Hooks append raw events to ``events`` (a deque: appends are atomic and cheap, so the task hot
path never waits for the database). Every ``FLUSH_PERIOD`` the writer drains the deque, turns
the events into rows and writes each table with one ``executemany`` in one transaction. Status
rows are written in the next batch. A task's row and its try's row wait in memory until the task
ends or ``HOLD_ROWS`` has passed, whichever is first: a short task is inserted once with its
final values; a longer one is inserted when its hold ends and updated in later batches.

What the writer remembers between batches is bounded by the tasks in flight, not by the run:
a task's row is inserted once (in the batch of its final event, or when its hold ends) and
updated in any later one, so no set of inserted ids is kept. A try's row is inserted with its
launch (the event that gives it the NOT NULL executor); a worker message for a try arrives
before that launch or after it, and the writer tells which from the one thing it keeps per
unfinished task: the highest try launched so far. A task's final state forgets it; anything
arriving later for it (a worker's ``running`` message, a last resource sample) is an update
of a row that exists, or a plain insert into ``status``/``resource``.

Being the only writer (and SQLite in WAL mode with a busy timeout, so ``parsl-visualize`` can
read at the same time) is what keeps "database is locked" away. When the database cannot be
written all the same (locked for long, disk full, a read-only file, a PostgreSQL server
restarting), no row is lost and the workflow never waits: the failed batch and every later one
go to a :class:`~parsl_monitoring.spill.Backlog` (in memory up to ``MAX_BUFFERED_ROWS`` rows,
then a spill file in the run directory), retried with backoff and replayed in order once the
database answers. Rows still unwritten at shutdown stay in the spill file, which
``parsl-monitoring-replay`` loads later. Only a batch the database refuses for its own contents
(an integrity or data error: retrying cannot help) is logged and dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, and_, bindparam

from parsl.dataflow.states import States
from parsl.monitoring.packed import unpack_task_run
from parsl_monitoring.remote import RESOURCE_FIELDS, LocalEvents
from parsl_monitoring.spill import Backlog, batch_rows, spill_path
from parsl_monitoring.task_values import (
    _N_PLAIN,
    _PLAIN_RETURNED,
    executor_of,
    record_return,
    task_values,
    with_return_time,
)

__all__ = ["DatabaseWriter"]

logger = logging.getLogger("parsl.monitoring.writer")

#: seconds between batches: rows show up this late in the dashboard, and a batch stays big enough
#: that one transaction per table (not per event) is what the database sees
FLUSH_PERIOD = 0.5
#: queued events that wake the writer before the period ends, so a burst of tasks cannot grow the
#: queue (and the next transaction) without bound
WAKE_BACKLOG = 5000
#: seconds a live task's row (and its try's) waits in memory for the task to end before it is
#: written: a short task is then one insert with its final values, not an insert and updates
#: in later batches (on SQLite most of the writer's work). Status rows are never held.
HOLD_ROWS = 1.0
#: seconds a write waits on SQLite's lock while parsl-visualize (or a notebook) is reading
SQLITE_BUSY_TIMEOUT = 60
#: seconds an attempt to write held-back rows waits on SQLite's lock (see ``_set_busy_timeout``)
OUTAGE_BUSY_TIMEOUT = 1.0
#: seconds before a failed batch is tried again: long enough for a momentary lock to clear; the
#: delay doubles after each failed attempt, up to MAX_RETRY_DELAY
RETRY_DELAY = 0.5
#: the longest wait between two attempts while the database cannot be written
MAX_RETRY_DELAY = 5.0
#: rows of unwritten batches kept in memory while the database cannot be written (a few tens of
#: MB at most); later batches go to the spill file in the run directory
MAX_BUFFERED_ROWS = 100_000
#: seconds a PostgreSQL connection attempt waits for a server that does not answer
CONNECT_TIMEOUT = 10
#: seconds of held-back batches replayed per flush once the database is back, so the event
#: queue keeps being drained while a long outage is caught up
REPLAY_SLICE = 1.0
#: whole seconds whose timestamp text is kept: a run writes thousands of rows per second, each
#: converting the same second; past this many the cache starts again rather than grow
_SECOND_TEXT_CACHE_SIZE = 4096
#: the batch's lists, one per table (tasks and tries split into new rows and updates)
_BATCH_PARTS = (
    "workflow",
    "workflow_end",
    "task_insert",
    "task_update",
    "try_insert",
    "try_update",
    "status",
    "resource",
    "node",
    "block",
)
_RETURNED = frozenset(
    (States.exec_done, States.failed, States.dep_fail, States.memo_done, States.fail_retryable)
)
#: the states after which the kernel reports nothing more about a task
_FINAL = frozenset((States.exec_done, States.failed, States.dep_fail, States.memo_done))
_STATE_NAMES = {state: state.name for state in States}
_RETURNED_NAMES = frozenset(state.name for state in _RETURNED)
_FINAL_NAMES = frozenset(state.name for state in _FINAL)
#: the states a task's wrapper reports from the process that runs it
#: the state name of a thread executor's try reported as it runs (see WriterProcess.poll)
RUNNING_LIVE = "running_live"
_RAN = frozenset(("running", "running_ended", RUNNING_LIVE))
#: a live task's entry in ``DatabaseWriter._live`` before any of its tries was launched
_NOT_LAUNCHED = -1


class DatabaseWriter(threading.Thread):
    """Write one workflow's rows to ``url`` (any SQLAlchemy URL) from a background thread.

    ``spill_dir`` is where rows the database does not take are spilled (default: the run
    directory named in the workflow row); ``max_buffered_rows`` how many of them stay in memory
    first (default ``MAX_BUFFERED_ROWS``).
    """

    def __init__(
        self,
        url: str,
        run_id: str,
        *,
        spill_dir: str | None = None,
        max_buffered_rows: int | None = None,
        hold_rows: float | None = None,
    ) -> None:
        super().__init__(name="parsl-monitoring-writer", daemon=True)
        from sqlalchemy import create_engine, event

        from parsl_monitoring.db import metadata, with_installed_driver

        self.url = url
        self.run_id = run_id
        self.events: deque[Any] = deque()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()  # not _stop: that name is threading.Thread's own method
        self._done = threading.Event()
        self._workflow_end: dict[str, Any] | None = None
        self._workflow_start: dict[str, Any] | None = None
        self.sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
            _ensure_sqlite_dir(url)
        else:
            # a server that went away is noticed at checkout, not as a failed batch, and one
            # that does not answer costs an attempt CONNECT_TIMEOUT seconds, not minutes
            kwargs["pool_pre_ping"] = True
            if url.startswith("postgresql") and "connect_timeout" not in url:
                kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        self.engine = create_engine(with_installed_driver(url), **kwargs)
        if self.sqlite:

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
                cur.close()

        metadata.create_all(self.engine)  # checkfirst: an existing database is reused
        # Row state across batches, all of it about unfinished tasks (see the module docstring):
        # task id -> highest try launched, from the task's first event to its final one
        self._live: dict[int, int] = {}
        # try rows waiting to be written: (task id, try id) -> the columns known so far
        self._try_rows: dict[tuple[int, int], dict[str, Any]] = {}
        # set by task_changed, read and forgotten by the writer at the task's final event:
        # task id -> its record, and -> its dependencies while the kernel has them
        self._records: dict[int, Any] = {}
        self._depends: dict[int, Any] = {}
        # (task id, try id) -> start time of a try reported while it ran (RUNNING_LIVE), until
        # its ``running`` event arrives with its return (bounded by the threads running)
        self._live_running: dict[tuple[int, int], float] = {}
        # rows held back (see HOLD_ROWS), oldest first: task id -> [since, depends], and
        # (task id, try id) -> since for the try rows waiting in _try_rows
        self._held_tasks: dict[int, list[Any]] = {}
        self._held_tries: dict[tuple[int, int], float] = {}
        self.hold_rows = HOLD_ROWS if hold_rows is None else hold_rows
        self._hostname = socket.gethostname()  # of tasks run in this process (thread executors)
        self._block_id = os.environ.get("PARSL_WORKER_BLOCK_ID")
        self._compiled: dict[Any, tuple[str, tuple[str, ...] | None]] = {}
        self._dt_columns: dict[str, frozenset[str]] = {}
        self._second_text: dict[int, str] = {}
        self.rows_written = 0
        self.batches_failed = 0  # batches dropped: events that made no rows, rows refused
        # the outage state (see the module docstring); the backlog is made at the first failure
        self.spill_dir = spill_dir
        self.max_buffered_rows = MAX_BUFFERED_ROWS if max_buffered_rows is None else max_buffered_rows
        self.backlog: Backlog | None = None
        self.spill_file: str | None = None  # set when rows were left in it at shutdown
        self._retry_at = 0.0
        self._retry_delay = RETRY_DELAY
        self._outage_since: float | None = None
        self._outage_rows = 0
        self._last_error: BaseException | None = None
        self._busy_timeout: float = SQLITE_BUSY_TIMEOUT

    # ----------------------------------------------------------- producer side
    def task_changed(self, task: Any, state: States, timestamp: float) -> None:
        """Queue a task's state change (the kernel's hook, on the task's hot path).

        The event is the task's ``status`` row itself, plain values only: the garbage collector
        stops tracking such a tuple at its first pass, so thousands of queued events do not make
        the kernel's collections slower. The record is looked up by id when the batch is made.
        """
        tid = task.id
        self._records[tid] = task
        depends = task.depends
        if depends:  # kept now: with garbage_collect the kernel clears it when the task ends
            self._depends[tid] = depends
        self.events.append((tid, _STATE_NAMES[state], timestamp, self.run_id, task.try_id))

    def task_ran(self, task_id: int, try_id: int, state: str, timestamp: float) -> None:
        """Queue ``running`` or ``running_ended`` of a task run in this process (thread executors)."""
        self.events.append((task_id, state, timestamp, self.run_id, try_id))

    def local_events(self) -> LocalEvents:
        """A task wrapper's queue here, as ``WriterProcess.local_events()`` gives one there: the
        wrapper packs its events the same way; they are queued here as status rows."""
        from parsl_monitoring.writer_process import local_events, unpack_events

        return local_events(lambda data: self.events.extend(unpack_events(data, self.run_id)))

    def wake(self) -> None:
        if len(self.events) > WAKE_BACKLOG:
            self._wakeup.set()

    def workflow_started(self, row: dict[str, Any]) -> None:
        self._workflow_start = row
        if self.spill_dir is None:
            self.spill_dir = row.get("rundir")

    def workflow_finished(self, values: dict[str, Any]) -> None:
        self._workflow_end = values

    def close(self, timeout: float) -> bool:
        """Write everything still queued, then stop. False if that took longer than ``timeout``."""
        self._stopping.set()
        self._wakeup.set()
        if not self.is_alive():
            return True
        self._done.wait(timeout)
        if self._done.is_set():
            return True
        backlog = self.backlog
        if backlog:
            # the writer went on past the timeout catching up an outage; it wrote what it still
            # held to its spill file before its last attempt (see _leave_backlog)
            logger.warning(
                "Monitoring was still writing %d rows held back while its database could not be "
                "written; any it does not finish are in %s: load them with parsl-monitoring-replay %s",
                backlog.rows,
                backlog.path,
                backlog.path,
            )
        return False

    # ----------------------------------------------------------- writer thread
    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wakeup.wait(FLUSH_PERIOD)
                self._wakeup.clear()
                self._flush()
            self._flush()
            self._flush()  # anything appended while the previous flush ran
            self._leave_backlog()
        finally:
            self._done.set()
            try:
                self.engine.dispose()
            except Exception:  # the rows are written; a pool that will not close only leaks until exit
                logger.debug("Monitoring could not dispose of its database engine", exc_info=True)

    def _flush(self) -> None:
        try:
            batch = self._collect()
        except Exception:  # a bug turning events into rows must not stop the writer
            self.batches_failed += 1
            logger.exception("Monitoring could not turn queued events into rows; they are dropped")
            return
        backlog = self.backlog
        if any(batch.values()):
            if backlog:  # an outage: this batch goes after the ones held back
                backlog.add(batch)
                self._outage_rows += batch_rows(batch)
            elif not self._write_batch(batch):
                self._hold_back(batch)
                return
        if backlog and time.monotonic() >= self._retry_at:
            self._replay(REPLAY_SLICE)

    def _write_batch(self, batch: dict[str, list[Any]]) -> bool:
        """Write one batch. True when done with it (written, or refused for its contents and
        dropped); False when the database cannot be written now (the batch is to be kept)."""
        try:
            self._write(batch)
        except Exception as e:
            if not _refused(e):
                self._last_error = e
                return False
            self.batches_failed += 1
            logger.exception("Monitoring dropped a batch of %d rows the database refused", batch_rows(batch))
            return True
        self.rows_written += batch_rows(batch)
        return True

    def _hold_back(self, batch: dict[str, list[Any]]) -> None:
        """The database cannot be written: keep ``batch`` first in a new backlog and retry later."""
        if self.backlog is None:
            from sqlalchemy.engine import make_url

            self.backlog = Backlog(
                spill_path(self.spill_dir or os.getcwd(), self.run_id),
                self.max_buffered_rows,
                {"run_id": self.run_id, "url": make_url(self.url).render_as_string(hide_password=True)},
            )
        self.backlog.add(batch)
        self._outage_rows = batch_rows(batch)
        self._outage_since = time.monotonic()
        self._retry_delay = RETRY_DELAY
        self._retry_at = self._outage_since + RETRY_DELAY
        logger.warning(
            "Monitoring cannot write to its database (%s: %s); its rows are kept (in memory up to %d, "
            "then in %s) and written once the database is back",
            type(self._last_error).__name__,
            _first_line(self._last_error),
            self.max_buffered_rows,
            self.backlog.path,
        )

    def _replay(self, budget: float | None) -> bool:
        """Write the held-back batches, oldest first, for up to ``budget`` seconds (None: until
        done or failed). True once none is left; on failure the next attempt waits longer."""
        backlog = self.backlog
        assert backlog is not None
        deadline = None if budget is None else time.monotonic() + budget
        while backlog:
            try:
                batch = backlog.peek()
            except Exception:  # a spill record that cannot be read back: the others still can
                self.batches_failed += 1
                logger.exception("Monitoring could not read back a spilled batch; it is dropped")
                backlog.pop()
                continue
            if not self._write_batch(batch):
                self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_DELAY)
                self._retry_at = time.monotonic() + self._retry_delay
                logger.debug("Monitoring database still cannot be written: %s", _first_line(self._last_error))
                return False
            backlog.pop()
            if deadline is not None and time.monotonic() > deadline and backlog:
                return False  # more at the next flush: meanwhile the queue is drained as usual
        logger.info(
            "Monitoring database can be written again after %.1fs; %d held-back rows written (%d batches "
            "went through the spill file)",
            time.monotonic() - (self._outage_since or time.monotonic()),
            self._outage_rows,
            backlog.spilled_batches,
        )
        backlog.spilled_batches = 0
        self._outage_since = None
        return True

    def _leave_backlog(self) -> None:
        """At shutdown: the held-back rows go to the spill file first, then one last attempt
        writes them; what that leaves stays in the file, named in a warning."""
        backlog = self.backlog
        if not backlog:
            return
        try:
            backlog.persist()  # on disk before an attempt that may outlast close()'s timeout
        except OSError as e:
            logger.error("Monitoring could not write its spill file %s: %s", backlog.path, e)
        if self._replay(None):
            return
        try:
            backlog.persist()  # only what is left
        except OSError as e:
            logger.error(
                "Monitoring lost %d rows: the database and the spill file %s both refused them (%s)",
                backlog.memory_rows,
                backlog.path,
                e,
            )
        backlog.close()
        if backlog.file_rows:
            self.spill_file = backlog.path
            logger.warning(
                "Monitoring could not write %d rows to its database before the workflow ended (%s); "
                "they are kept in %s. Load them once the database is back with: "
                "parsl-monitoring-replay %s",
                backlog.file_rows,
                _first_line(self._last_error),
                backlog.path,
                backlog.path,
            )

    def _collect(self) -> dict[str, list[dict[str, Any]]]:
        """Drain the events into rows per table (and per insert/update for tasks and tries)."""
        out: dict[str, list[Any]] = {part: [] for part in _BATCH_PARTS}
        if self._workflow_start is not None:
            out["workflow"].append(self._workflow_start)
            self._workflow_start = None
        touched_tasks, touched_tries = self._drain_events(out)
        self._queue_task_rows(touched_tasks, out)
        self._queue_try_rows(touched_tries, out)
        if self._workflow_end is not None and self._stopping.is_set() and not self.events:
            out["workflow_end"].append({"run_id": self.run_id, **self._workflow_end})
            self._workflow_end = None
        return out

    def _drain_events(self, out: dict[str, list[Any]]) -> tuple[dict[int, list[Any]], set[tuple[int, int]]]:
        """Status rows and try-row changes from every queued event; the tasks and tries touched.

        An event is a status row ``(task id, state name, timestamp, run id, try id)`` (see
        :meth:`task_changed` and :meth:`task_ran`), ``("messages", executor, messages)``, or
        ``(record, state, timestamp, try id, depends)`` as queued before task_changed existed.
        """
        events = self.events
        status = out["status"]
        # task id -> [record, changed since in db, depends, first event in this batch]
        touched_tasks: dict[int, list[Any]] = {}
        touched_tries: set[tuple[int, int]] = set()
        live = self._live
        records, depends_of = self._records, self._depends
        try_rows = self._try_rows
        for _ in range(len(events)):
            ev = events.popleft()
            tid = ev[0]
            if type(tid) is not int:
                if type(tid) is str:  # "messages"
                    self._messages(ev[1], ev[2], out, touched_tries)
                    continue
                # (record, state, timestamp, try id, depends): the earlier form, still accepted
                task, state, ts, try_id, depends = ev
                tid = task.id
                records[tid] = task
                if depends:
                    depends_of[tid] = depends
                ev = (tid, _STATE_NAMES[state], ts, self.run_id, try_id)
            name = ev[1]
            if name in _RAN:  # from this process (a thread executor's try): no record needed
                if name == RUNNING_LIVE:  # a try still running, reported before its return
                    ev = (tid, "running", *ev[2:])
                    self._live_running[(tid, ev[4])] = ev[2]
                    name = "running"
                elif (
                    name == "running"
                    and self._live_running
                    and self._live_running.pop((tid, ev[4]), None) == ev[2]
                ):
                    continue  # reported while it ran: its row is written already
                status.append(ev)
                if name == "running":
                    key = (tid, ev[4])
                    trow = self._try_row(key)
                    trow["task_try_time_running"] = ev[2]
                    trow["hostname"] = self._hostname
                    trow["block_id"] = self._block_id
                    touched_tries.add(key)
                continue
            status.append(ev)
            task = records.get(tid)
            if task is None:  # a kernel event after the task's final one: its status row only
                continue
            entry = touched_tasks.get(tid)
            depends = depends_of.get(tid)
            if entry is None:
                entry = touched_tasks[tid] = [task, False, depends, False]
            elif depends:
                entry[2] = depends
            try_id = ev[4]
            if name == "pending":
                # the kernel's first event of every task; a retry is pending again on a later try
                if try_id == 0 and tid not in live:
                    live[tid] = _NOT_LAUNCHED
                    entry[3] = True
            elif name == "launched":
                key = (tid, try_id)
                trow = self._try_row(key)
                trow["task_executor"] = executor_of(task)
                trow["task_try_time_launched"] = ev[2]
                touched_tries.add(key)
                if tid in live:
                    live[tid] = try_id
            elif name in _RETURNED_NAMES:
                entry[1] = True
                if type(task) is tuple and len(task) == _N_PLAIN and task[_PLAIN_RETURNED] is None:
                    # A plain task's record is read once, when it is new (see WriterProcess):
                    # its return time is its final event's, microseconds after the kernel's.
                    task = entry[0] = records[tid] = with_return_time(task, ev[2])
                key = (tid, try_id)
                if key in try_rows or live.get(tid, _NOT_LAUNCHED) >= try_id:
                    record_return(self._try_row(key), task, ev[2])
                    touched_tries.add(key)
                if name in _FINAL_NAMES:
                    live.pop(tid, None)
                    records.pop(tid, None)
                    depends_of.pop(tid, None)
        return touched_tasks, touched_tries

    def _try_row(self, key: tuple[int, int]) -> dict[str, Any]:
        """The pending row of try ``key`` (task id, try id), started if there is none yet."""
        row = self._try_rows.get(key)
        if row is None:
            row = self._try_rows[key] = {"try_id": key[1], "task_id": key[0], "run_id": self.run_id}
        return row

    def _hold_until(self) -> float:
        """Rows held since before this (monotonic) time are written now; at shutdown, all."""
        if self._stopping.is_set() or self.hold_rows <= 0:
            return float("inf")
        return time.monotonic() - self.hold_rows

    def _queue_task_rows(self, touched: dict[int, list[Any]], out: dict[str, list[Any]]) -> None:
        """An insert for each new task once it ended (or was held HOLD_ROWS), an update for each
        that changed since its insert."""
        run_id = self.run_id
        live, held = self._live, self._held_tasks
        due = self._hold_until()
        now = time.monotonic()
        for tid, (task, changed, depends, first_seen) in touched.items():
            if first_seen or tid in held:  # not written yet
                if tid in live and due != float("inf"):
                    if first_seen:
                        held[tid] = [now, depends]
                    elif depends:
                        held[tid][1] = depends
                    continue
                h = held.pop(tid, None)
                if h is not None and not depends:
                    depends = h[1]
                out["task_insert"].append({"task_id": tid, "run_id": run_id, **task_values(task, depends)})
            elif changed:
                values = task_values(task, depends)
                if not values["task_depends"]:
                    del values["task_depends"]  # cleared by the kernel since the insert
                out["task_update"].append({"task_id": tid, "run_id": run_id, **values})
        records = self._records
        while held:  # the oldest first: stop at the first one still young
            tid, (since, depends) = next(iter(held.items()))
            if since > due:
                break
            del held[tid]
            task = records.get(tid)
            if task is not None:
                out["task_insert"].append({"task_id": tid, "run_id": run_id, **task_values(task, depends)})

    def _queue_try_rows(self, touched: set[tuple[int, int]], out: dict[str, list[Any]]) -> None:
        """Move the touched tries' pending rows into the batch, once each has its launch.

        A row holding its launch is new (a try is launched once); any other is an update of
        a row already written, unless the launch is still to come: a worker message can
        arrive before the kernel's launch event, and that row waits for it. A task that is
        no longer live has had every launch it will have.
        """
        live, held, try_rows = self._live, self._held_tries, self._try_rows
        due = self._hold_until()
        now = time.monotonic()
        for key in touched:
            trow = try_rows.get(key)
            if trow is None:
                continue
            if "task_executor" in trow:
                if key[0] in live and due != float("inf"):
                    held.setdefault(key, now)  # new, its task still running: wait for its end
                    continue
                held.pop(key, None)
                out["try_insert"].append(try_rows.pop(key))
            elif live.get(key[0], key[1]) >= key[1]:
                out["try_update"].append(try_rows.pop(key))
            # else: wait for the launch event to arrive (a worker message came first)
        while held:  # the oldest first: stop at the first one still young
            key, since = next(iter(held.items()))
            if since > due:
                break
            del held[key]
            trow = try_rows.pop(key, None)
            if trow is not None:
                out["try_insert"].append(trow)

    def _messages(
        self,
        executor: str | None,
        messages: list[dict[str, Any]],
        out: dict[str, list[Any]],
        touched_tries: set[tuple[int, int]],
    ) -> None:
        """Rows from one batch of executor messages (worker task states, resources, nodes, blocks)."""
        run_id = self.run_id
        status = out["status"]
        for msg in messages:
            if type(msg) is bytes:  # a short task's run, packed (parsl.monitoring.packed)
                tid, try_id, started, ended, hostname, block_id = unpack_task_run(msg)
                status.append((tid, "running", started, run_id, try_id))
                status.append((tid, "running_ended", ended, run_id, try_id))
                key = (tid, try_id)
                trow = self._try_row(key)
                trow["task_try_time_running"] = started
                trow["hostname"] = hostname
                trow["block_id"] = block_id
                touched_tries.add(key)
                continue
            kind = msg.get("type")
            if kind in ("task_running", "task_running_ended"):
                if msg.get("run_id") not in (None, run_id):
                    continue
                tid, try_id, ts = msg["task_id"], msg["try_id"], msg["timestamp"]
                state = "running" if kind == "task_running" else "running_ended"
                out["status"].append((tid, state, ts, run_id, try_id))
                if kind == "task_running":
                    key = (tid, try_id)
                    trow = self._try_row(key)
                    trow["task_try_time_running"] = ts
                    trow["hostname"] = msg.get("hostname")
                    trow["block_id"] = msg.get("block_id")
                    touched_tries.add(key)
            elif kind == "resource":
                if msg.get("run_id") not in (None, run_id):
                    continue
                row = {c: msg.get(c) for c in _RESOURCE_COLUMNS}
                row["timestamp"] = msg.get("timestamp") or time.time()
                row["run_id"] = run_id
                out["resource"].append(row)
            elif kind == "node":
                if msg.get("event") == "dispatched":
                    # a pool was given tasks: no new row (the task's try row has its block and host)
                    continue
                out["node"].append(_node_row(run_id, msg))
            elif kind == "block":
                out["block"].append(_block_row(run_id, executor, msg))

    def _write(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        from parsl_monitoring.db import BLOCK, NODE, RESOURCE, STATUS, TASK, TRY, WORKFLOW

        part = batch.get  # a batch read back from a spill file holds only its non-empty parts
        with self.engine.begin() as conn:
            if self.sqlite and (self._outage_since is not None or self._busy_timeout != SQLITE_BUSY_TIMEOUT):
                self._set_busy_timeout(conn)
            self._insert_many(conn, WORKFLOW, part("workflow"))
            self._insert_many(conn, TASK, part("task_insert"))
            self._update_many(conn, TASK, ("task_id", "run_id"), part("task_update"))
            self._insert_many(conn, TRY, part("try_insert"))
            self._update_many(conn, TRY, ("try_id", "task_id", "run_id"), part("try_update"))
            self._insert_many(conn, STATUS, part("status"))
            self._insert_many(conn, RESOURCE, part("resource"))
            self._insert_many(conn, BLOCK, part("block"))
            self._insert_many(conn, NODE, part("node"))
            self._update_many(conn, WORKFLOW, ("run_id",), part("workflow_end"))

    def _set_busy_timeout(self, conn: Any) -> None:
        """While rows are held back an attempt waits OUTAGE_BUSY_TIMEOUT for SQLite's lock, not
        SQLITE_BUSY_TIMEOUT: the rows are safe in the backlog either way, and the queue is not
        drained (nor a shutdown finished) while the writer waits."""
        timeout = OUTAGE_BUSY_TIMEOUT if self._outage_since is not None else SQLITE_BUSY_TIMEOUT
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        self._busy_timeout = timeout

    # Statements are compiled once per table and column set, then run with the driver's own
    # executemany: SQLAlchemy's per-row parameter processing cost more than the database.
    def _insert_many(self, conn: Any, table: Any, rows: list[dict[str, Any]] | None) -> None:
        if not rows:
            return
        key = ("insert", table.name)
        compiled = self._compiled.get(key)
        if compiled is None:
            cols = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
            compiled = self._compiled[key] = self._compile(
                self._insert(table).values({c: bindparam(c) for c in cols})
            )
        self._run(conn, compiled, table, rows)

    def _update_many(
        self, conn: Any, table: Any, keys: tuple[str, ...], rows: list[dict[str, Any]] | None
    ) -> None:
        """UPDATE rows by primary key, one executemany per set of changed columns."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows or ():
            cols = tuple(sorted(k for k in row if k not in keys))
            if cols:
                groups.setdefault(cols, []).append(row)
        for cols, group in groups.items():
            key = ("update", table.name, cols)
            compiled = self._compiled.get(key)
            if compiled is None:
                stmt = (
                    table.update()
                    .where(and_(*[table.c[k] == bindparam("k_" + k) for k in keys]))
                    .values({c: bindparam(c) for c in cols})
                )
                compiled = self._compiled[key] = self._compile(stmt)
            self._run(conn, compiled, table, [{**r, **{"k_" + k: r[k] for k in keys}} for r in group])

    def _compile(self, stmt: Any) -> tuple[str, tuple[str, ...] | None]:
        c = stmt.compile(dialect=self.engine.dialect)
        positional = getattr(c, "positiontup", None) if self.engine.dialect.positional else None
        return c.string, (tuple(positional) if positional else None)

    def _run(
        self, conn: Any, compiled: tuple[str, tuple[str, ...] | None], table: Any, rows: list[Any]
    ) -> None:
        """Execute ``compiled`` for ``rows``: dicts by column name, or (status rows) tuples in
        the table's column order. Timestamps, kept as floats until here, are converted."""
        sql, order = compiled
        dt_cols = self._datetime_columns(table)
        conv = self._sqlite_time if self.sqlite else self._time_value
        names = tuple(c.name for c in table.columns)
        if type(rows[0]) is tuple:
            if order == names:  # positional driver, same order: convert in place
                idx = [i for i, n in enumerate(names) if n in dt_cols]
                params: list[Any] = []
                if len(names) == 5 and idx == [2]:  # the status table: one tuple per row
                    conn.exec_driver_sql(sql, [(a, b, conv(c), d, e) for a, b, c, d, e in rows])
                    return
                for r in rows:
                    lr = list(r)
                    for i in idx:
                        lr[i] = conv(lr[i])
                    params.append(tuple(lr))
                conn.exec_driver_sql(sql, params)
                return
            rows = [dict(zip(names, r, strict=True)) for r in rows]
        if order is not None:
            dt_idx = [i for i, n in enumerate(order) if n in dt_cols]
            params = []
            for r in rows:
                values = list(map(r.get, order))  # None for a column the row does not set
                for i in dt_idx:
                    values[i] = conv(values[i])
                params.append(tuple(values))
        else:
            params = []
            for r in rows:
                p = {n: r.get(n) for n in names}
                p.update(r)
                for n in dt_cols:
                    p[n] = conv(p[n])
                params.append(p)
        conn.exec_driver_sql(sql, params)

    def _datetime_columns(self, table: Any) -> frozenset[str]:
        cols = self._dt_columns.get(table.name)
        if cols is None:
            cols = self._dt_columns[table.name] = frozenset(
                c.name for c in table.columns if isinstance(c.type, DateTime)
            )
        return cols

    def _sqlite_time(self, v: Any) -> Any:
        """:meth:`_time_value` for SQLite, the float of a second seen before taking the short way."""
        if type(v) is float:
            sec = int(v)
            prefix = self._second_text.get(sec)
            if prefix is not None:
                micro = int((v - sec) * 1e6 + 0.5)
                if 0 <= micro < 1_000_000:
                    return prefix + str(micro + 1_000_000)[1:]  # six digits, zero-padded
        return self._time_value(v)

    def _time_value(self, v: Any) -> Any:
        """A timestamp as the database driver wants it (SQLite: SQLAlchemy's text format)."""
        if type(v) is not float or not self.sqlite:  # the common case first: a float for SQLite
            if v is None:
                return None
            if isinstance(v, datetime):
                return v.isoformat(" ", "microseconds") if self.sqlite else v
            if not self.sqlite:
                return datetime.fromtimestamp(v)
        sec = int(v)
        prefix = self._second_text.get(sec)
        if prefix is None:
            if len(self._second_text) > _SECOND_TEXT_CACHE_SIZE:
                self._second_text.clear()
            prefix = self._second_text[sec] = datetime.fromtimestamp(sec).isoformat(" ", "seconds") + "."
        micro = int((v - sec) * 1e6 + 0.5)
        if not 0 <= micro < 1_000_000:
            return datetime.fromtimestamp(v).isoformat(" ", "microseconds")
        return prefix + str(micro + 1_000_000)[1:]

    def _insert(self, table: Any) -> Any:
        """An INSERT that skips rows whose primary key is already there (replays, retried batches)."""
        name = self.engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert

            return insert(table).on_conflict_do_nothing()
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        return table.insert()


_RESOURCE_COLUMNS = ("try_id", "task_id", *RESOURCE_FIELDS)


def _refused(error: BaseException) -> bool:
    """Whether the database refused a batch for its contents (retrying cannot help), rather than
    could not be written: integrity and data errors, and errors that are no database's (a bug)."""
    from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

    if isinstance(error, (IntegrityError, DataError)):
        return True
    return not isinstance(error, (SQLAlchemyError, OSError))


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else ""
    return text.splitlines()[0] if text else type(error).__name__


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def _node_row(run_id: str, msg: dict[str, Any]) -> dict[str, Any]:
    """The ``node`` row of a worker pool's registration or status change."""
    return {
        "run_id": run_id,
        "hostname": msg.get("hostname") or "?",
        "uid": str(msg.get("uid")),
        "block_id": str(msg.get("block_id")),
        "cpu_count": int(msg.get("cpu_count") or 0),
        "total_memory": int(msg.get("total_memory") or 0),
        "active": bool(msg.get("active")),
        "worker_count": int(msg.get("worker_count") or 0),
        "python_v": str(msg.get("python_v", "")),
        "timestamp": msg.get("timestamp") or time.time(),
        "last_heartbeat": msg.get("last_heartbeat") or msg.get("timestamp") or time.time(),
    }


def _block_row(run_id: str, executor: str | None, msg: dict[str, Any]) -> dict[str, Any]:
    """The ``block`` row of a block's status change (the sending executor's label, if known)."""
    return {
        "run_id": run_id,
        "executor_label": executor or msg.get("executor_label") or "?",
        "block_id": str(msg.get("block_id")),
        "job_id": _str_or_none(msg.get("job_id")),
        "timestamp": msg.get("timestamp") or time.time(),
        "status": str(msg.get("status")),
    }


def _ensure_sqlite_dir(url: str) -> None:
    from sqlalchemy.engine import make_url

    db = make_url(url).database
    if db and db != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
