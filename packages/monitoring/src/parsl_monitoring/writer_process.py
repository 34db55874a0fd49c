"""The workflow process's side of the monitoring writer, which runs in a process of its own.

The hub's hooks put each task state change, packed into 24 bytes, at the end of one
``bytearray`` (:attr:`WriterProcess.packed`), and executors' message batches in a deque
(:attr:`WriterProcess.events`, with a marker in the byte queue for their place). A feeder
thread takes both every ``FEED_PERIOD`` (sooner past ``WAKE_BACKLOG`` events), adds one plain
snapshot per task touched (a ``TaskRecord`` cannot cross a process boundary) and sends the
batch, one pickle, to the writer process (:mod:`parsl_monitoring.writer_main`) over its
standard input. Everything else, from rows to outages and spill files, happens there, off the
workflow process's GIL.

The writer process is started with ``subprocess`` (``python -m``), never by forking the
workflow process, in a session of its own (a Ctrl-C of the workflow does not cut its last
writes). It exits when its input ends: when the workflow process closes it at shutdown, and
when the workflow process dies. A writer process that dies is noticed at once (its output
ends): an error is logged and the workflow runs on, unmonitored from then on.
"""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import attrgetter, eq, gt, not_
from typing import Any

from parsl.dataflow.states import States
from parsl_monitoring.remote import LocalEvents
from parsl_monitoring.task_values import NEW_FIELDS, new_snapshot, task_snapshot
from parsl_monitoring.urls import safe_url
from parsl_monitoring.writer_main import encode_frame

__all__ = ["WriterProcess"]

logger = logging.getLogger("parsl.monitoring")

#: seconds between two batches sent to the writer process
FEED_PERIOD = 0.2
#: queued events that send a batch before the period ends
WAKE_BACKLOG = 5000
#: seconds the writer process may take, beyond the flush timeout, to start and to exit
EXIT_MARGIN = 10.0
#: seconds :meth:`WriterProcess.start` waits for the writer process to have its database open
#: (Python started, SQLAlchemy imported, tables made): that startup then does not compete with
#: the workflow's first tasks for the CPU, and a database that cannot be opened is reported
#: before the first task. A database slower than this to answer is waited for in the background.
READY_WAIT = 5.0

#: A queued state change is 24 bytes, not a tuple: the task id, ``try id << 8 | state code`` and
#: the timestamp, appended to one ``bytearray``. No object per event: a tuple per event was
#: tracked by the garbage collector (and one holding the task record promoted to its oldest
#: generation), and even a ``bytes`` per event, which it does not track, took a small-object
#: slot that a batch freed all at once; the next tasks' lists and futures then landed in those
#: scattered slots, and every full collection walked them ~20% slower (a 20,000-task thread
#: run: 0.23 s of full collections against 0.17 s unmonitored; 0.17 s with the byte queue).
#: A batch goes to the writer process as one string (see :func:`unpack_events`).
EVENT = struct.Struct("<qqd")
#: state names by code: the kernel's states, then the two a task's wrapper reports
EVENT_NAMES: tuple[str, ...] = (*(state.name for state in States), "running", "running_ended", "running_live")
#: the code of each kernel state in a packed event
STATE_CODES = {state: i for i, state in enumerate(States)}
_RUNNING, _RUNNING_ENDED, RUNNING_LIVE_CODE = len(States), len(States) + 1, len(States) + 2
#: the code of a new plain task's first event: ``pending`` on try 0, the event's upper bits
#: holding the index of its (app name, executor) in :attr:`WriterProcess.names` instead of a
#: try id, and its timestamp the task's ``time_invoked``: all a plain task's row needs until
#: its final event (see ``task_values.new_snapshot``), with no record to read
NEW_CODE = len(States) + 3
_NEW_BYTE = bytes([NEW_CODE])
#: the codes after which the kernel reports nothing more about a task (its record is let go)
_FINAL_CODES = frozenset(
    STATE_CODES[s] for s in (States.exec_done, States.failed, States.dep_fail, States.memo_done)
)
#: ``pack_event(task id, try id << 8 | code, timestamp)``: one queued event
pack_event = EVENT.pack
#: the code of a marker event: an executor message batch (the next in ``events``) goes here
_MESSAGES = 255
_MARKER = pack_event(0, _MESSAGES, 0.0)
_MARKER_CODE = bytes([_MESSAGES])
#: ``bytes.translate`` tables over event codes: 1 for the kernel's own states (the events that
#: touch a task's row), and 1 for the final ones
_KERNEL_TABLE = bytes(1 if code < _RUNNING else 0 for code in range(256))
_FINAL_TABLE = bytes(1 if code in _FINAL_CODES else 0 for code in range(256))
_exhaust = deque(maxlen=0).extend  # runs an iterator to its end, keeping nothing
#: what a plain task's record holds: no keyword arguments, dependencies, failed tries, joins
#: or memoization (whose hash the kernel sets at launch, after the snapshot)
_PLAIN_MARKS = attrgetter("kwargs", "depends", "fail_history", "joins", "memoize")
_PLAIN = ({}, (), None, None, False)
#: three events of one try in one call: ``running`` at its start, ``running_ended`` at its
#: end, and the kernel's state on its return
RAN = struct.Struct("<qqdqqdqqd")
#: the kernel states at which a try has returned from its executor
_RAN_CODES = frozenset(STATE_CODES[s] for s in (States.exec_done, States.failed, States.fail_retryable))


def pack_ran(task_id: int, code: int, started: float, ended: float, timestamp: float) -> bytes:
    """``running`` at ``started`` and ``running_ended`` at ``ended`` of the try in ``code`` (an
    event's ``try id << 8 | state``), then that event at ``timestamp``: a thread executor's
    try, told when it returns."""
    try_code = code & ~255
    return RAN.pack(
        task_id,
        try_code | _RUNNING,
        started,
        task_id,
        try_code | _RUNNING_ENDED,
        ended,
        task_id,
        code,
        timestamp,
    )


#: a new plain task's event (:data:`NEW_CODE`) and its first try's launch, in one call
NEW_LAUNCHED = struct.Struct("<qqdqqd")
_LAUNCHED_CODE = STATE_CODES[States.launched]


def pack_new_launched(task_id: int, new_code: int, invoked: float, launched: float) -> bytes:
    """A new plain task's event and its first try's ``launched`` at ``launched``: a thread
    executor's task, launched in the very call that made it pending."""
    return NEW_LAUNCHED.pack(task_id, new_code, invoked, task_id, _LAUNCHED_CODE, launched)


#: the code of a task's first event: ``pending`` on try 0 (the whole ``try id << 8 | code``)
_PENDING = STATE_CODES[States.pending]
#: the kernel states after which a task's record is read again: its row changes beyond the
#: return time (failed tries, a join, a memoized result, a dependency failure)
_RECORD_CODES = frozenset(
    STATE_CODES[s]
    for s in (States.fail_retryable, States.failed, States.dep_fail, States.memo_done, States.joining)
)
#: a new plain task's id and values (see ``task_values.NEW_FIELDS``), read in one C call
_PLAIN_VALUES = attrgetter("id", *NEW_FIELDS)
_task_id = attrgetter("id")


def _segments(data: bytes, codes: bytes, messages: deque[Any]) -> list[Any]:
    """``data`` cut at its markers, each marker replaced by the next of ``messages``."""
    segments: list[Any] = []
    size = EVENT.size
    start = 0
    at = codes.find(_MARKER_CODE)
    while at >= 0:
        if at > start:
            segments.append(data[start * size : at * size])
        segments.append(messages.popleft())  # put there before its marker: it is there
        start = at + 1
        at = codes.find(_MARKER_CODE, start)
    if start < len(codes):
        segments.append(data[start * size :])
    return segments


def local_events(put: Callable[[bytes], None]) -> LocalEvents:
    """``(put, pack_event, running code, running_ended code)``: a task wrapper's queue (see
    ``MonitoredFunction.local``), the packed events going to ``put``."""
    return (put, pack_event, _RUNNING, _RUNNING_ENDED)


def unpack_events(
    data: bytes,
    run_id: str,
    names: list[tuple[str, str]] | None = None,
    records: dict[int, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The status rows ``(task id, state name, timestamp, run id, try id)`` of packed events.

    A new plain task's event (:data:`NEW_CODE`) is its ``pending`` row; its snapshot goes into
    ``records`` unless the batch brought a later one, its app name and executor taken from ``names`` (the workflow process's
    :attr:`WriterProcess.names`, as sent so far).
    """
    table = EVENT_NAMES
    if names is None or _NEW_BYTE not in data[8 :: EVENT.size]:
        return [(tid, table[tc & 255], ts, run_id, tc >> 8) for tid, tc, ts in EVENT.iter_unpack(data)]
    assert records is not None
    out = []
    append = out.append
    for tid, tc, ts in EVENT.iter_unpack(data):
        code = tc & 255
        if code == NEW_CODE:
            if tid not in records:  # else a later snapshot of it came with this batch
                func_name, executor = names[tc >> 8]
                records[tid] = new_snapshot(func_name, ts, executor)
            append((tid, "pending", ts, run_id, 0))
        else:
            append((tid, table[code], ts, run_id, tc >> 8))
    return out


class WriterProcess:
    """Feed one workflow's monitoring events to a writer process that writes them to ``url``.

    The producer side (:meth:`task_changed`, :meth:`task_ran`, :meth:`add_messages`,
    :meth:`wake`, :meth:`workflow_started`, :meth:`workflow_finished`, :meth:`close`) is the
    :class:`~parsl_monitoring.writer.DatabaseWriter`'s, with events packed. ``on_lost`` is
    called (from a background thread) when the writer process could not open the database or
    died.
    """

    def __init__(
        self,
        url: str,
        run_id: str,
        *,
        on_lost: Callable[[], None] | None = None,
        spill_dir: str | None = None,
        max_buffered_rows: int | None = None,
    ) -> None:
        self.url = url
        self.run_id = run_id
        #: packed events (:data:`EVENT`), appended with :attr:`put_event` (``bytearray.extend``,
        #: one C call: safe from any thread), taken from the front by the feeder
        self.packed = bytearray()
        self.put_event: Callable[[bytes], None] = self.packed.extend
        #: executors' message batches, ``("messages", executor label, messages)``, each with a
        #: marker in ``packed`` where it goes (see :meth:`add_messages`)
        self.events: deque[Any] = deque()
        self.on_lost = on_lost
        #: called by the feeder at each batch, before it takes the queue: packed events of tries
        #: running now that no other event tells of yet (the hub's thread executor tries)
        self.poll: Callable[[], bytes] | None = None
        self.spill_dir = spill_dir
        self.max_buffered_rows = max_buffered_rows
        #: tasks whose first event (``pending`` on try 0) was queued since the last batch: the
        #: next batch sends a snapshot of each (``list.append``, one C call, from any thread)
        self.new_tasks: list[Any] = []
        #: the (app name, executor label) pairs new plain tasks' events name by index (see
        #: :data:`NEW_CODE`), and each pair's index: added to by :meth:`name_of`, sent by the
        #: feeder as it grows
        self.names: list[tuple[str, str]] = []
        self.name_index: dict[tuple[str, str], int] = {}
        #: executor label -> app name -> (code of a new plain task's event, on a thread
        #: executor): the hub's cache of :meth:`name_of` for its pending hook
        self.new_codes: dict[str, dict[str, tuple[int, bool]]] = {}
        self._names_sent = 0
        self._names_lock = threading.Lock()
        # task id -> the record of a task that is not plain (see _PLAIN_MARKS), and -> its
        # dependencies while the kernel has them, until its final event: read into a snapshot
        # again in each batch with an event of the task. A plain task's record is read once,
        # when it is new: its later rows follow from its events alone.
        self._records: dict[int, Any] = {}
        self._depends: dict[int, Any] = {}
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._workflow_start: dict[str, Any] | None = None
        self._workflow_end: dict[str, Any] | None = None
        self._timeout = 30.0
        self.proc: subprocess.Popen[bytes] | None = None
        self._feeder: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._lost_lock = threading.Lock()
        #: why the writer process is no longer written to (None while it works)
        self.lost: str | None = None
        #: the writer process's last figures: rows_written, backlog_rows, spill_path, live, ...
        self.stats: dict[str, Any] = {}
        self.result: dict[str, Any] | None = None
        #: set once the writer process has its database open, or has stopped
        self.ready = threading.Event()
        self.spill_file: str | None = None

    # ----------------------------------------------------------- producer side
    def task_changed(self, task: Any, state: States, timestamp: float) -> None:
        """Queue a task's state change (the kernel's hook, on the task's hot path)."""
        tid = task.id
        code = task.try_id << 8 | STATE_CODES[state]
        if code == _PENDING:  # the task's first event: its record is read at the next batch
            self.new_tasks.append(task)
        else:
            depends = task.depends
            if depends:  # kept now: with garbage_collect the kernel clears it when the task ends
                self._depends[tid] = depends
                self._records[tid] = task
            elif code & 255 in _RECORD_CODES:
                self._records[tid] = task
        self.put_event(pack_event(tid, code, timestamp))

    def name_of(self, key: tuple[str, str]) -> int:
        """The index of ``key`` (app name, executor label) in :attr:`names`, added if new.

        Called from the kernel's threads; the lock keeps one index per pair. The feeder
        copies the queued events before it reads the names, so each name an event it sends
        points to is sent with it or before.
        """
        with self._names_lock:
            index = self.name_index.get(key)
            if index is None:
                index = len(self.names)
                self.names.append(key)
                self.name_index[key] = index
            return index

    def task_ran(self, task_id: int, try_id: int, state: str, timestamp: float) -> None:
        """Queue ``running`` or ``running_ended`` of a task run in this process (thread executors)."""
        code = _RUNNING if state == "running" else _RUNNING_ENDED
        self.put_event(pack_event(task_id, try_id << 8 | code, timestamp))

    def add_messages(self, executor: str | None, messages: list[dict[str, Any]]) -> None:
        """Queue a batch of executor (or task wrapper) messages, in order with the events."""
        self.events.append(("messages", executor, messages))
        self.put_event(_MARKER)  # after the batch: a feeder that sees the marker finds it

    def local_events(self) -> LocalEvents:
        """What a task wrapper in this process appends its ``running`` and ``running_ended``
        events with, without a call of ours (see ``MonitoredFunction.local``); the same events
        as :meth:`task_ran`'s."""
        return local_events(self.put_event)

    def wake(self) -> None:
        """Send a batch now if much is queued (executors call this after a message batch)."""
        if len(self.events) > WAKE_BACKLOG or len(self.packed) > WAKE_BACKLOG * EVENT.size:
            self._wakeup.set()

    def workflow_started(self, row: dict[str, Any]) -> None:
        self._workflow_start = row

    def workflow_finished(self, values: dict[str, Any]) -> None:
        self._workflow_end = values

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def is_alive(self) -> bool:
        """Whether the writer process is running."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def rows_written(self) -> int:
        return int(self.stats.get("rows_written", 0))

    def start(self) -> None:
        """Start the writer process and the threads that feed it and read what it reports."""
        if not sys.executable:
            raise RuntimeError(
                "Python's sys.executable is unknown: the monitoring writer process cannot start"
            )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parsl_monitoring.writer_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        settings = {
            "url": self.url,
            "run_id": self.run_id,
            "workflow": self._workflow_start,
            "level": logging.getLogger("parsl.monitoring").getEffectiveLevel(),
            "spill_dir": self.spill_dir,
            "max_buffered_rows": self.max_buffered_rows,
        }
        self._send(("start", settings))
        self._reader = threading.Thread(target=self._read, name="parsl-monitoring-reader", daemon=True)
        self._reader.start()
        self._feeder = threading.Thread(target=self._feed, name="parsl-monitoring-feeder", daemon=True)
        self._feeder.start()
        if not self.ready.wait(READY_WAIT):
            logger.info(
                "Monitoring's writer process has not opened %s after %.0f s; the workflow starts "
                "meanwhile and its rows are written once it has",
                safe_url(self.url),
                READY_WAIT,
            )

    def close(self, timeout: float) -> bool:
        """Send everything still queued and wait for the writer process to write it and exit.

        False if that took longer than ``timeout`` (the process goes on, and exits by itself).
        """
        self._timeout = timeout
        self._stopping.set()
        self._wakeup.set()
        deadline = time.monotonic() + timeout + EXIT_MARGIN
        for thread in (self._feeder, self._reader):
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        if self._reader is not None and self._reader.is_alive():
            return False
        result = self.result
        if result is None:
            return self.lost is not None  # already logged: nothing more to wait for
        self.spill_file = result.get("spill_file")
        return bool(result.get("ok"))

    # ------------------------------------------------------------ feeder thread
    def _feed(self) -> None:
        try:
            while not self._stopping.is_set() and self.lost is None:
                self._wakeup.wait(FEED_PERIOD)
                self._wakeup.clear()
                self._send_batch()
            if self.lost is None:
                self._send_batch()
                self._send(("end", self._workflow_end, self._timeout))
        except Exception:  # a bug here must not stop the workflow: this run is unmonitored from now on
            logger.exception("Monitoring could not send its events to the writer process")
            self._lose("the feeder failed")
        finally:
            stdin = self.proc.stdin if self.proc is not None else None
            if stdin is not None:
                try:
                    stdin.close()
                except OSError:
                    pass

    def _send_batch(self) -> None:
        """Send what was queued: runs of packed events joined, executor messages as they are, in
        order, a snapshot of each new task, and a new snapshot of each task that is not plain
        and that the kernel reported on.

        Per task, this runs at C speed where it can (a thread executor's workflow sends five
        events per task through here, so each Python step per task shows in its throughput).
        A plain task (most of them) is read once, when it is new: its values go into one flat
        list, and the writer process takes its return time from its final event. The events
        themselves are only looked into when some task is not plain: then the codes of a
        joined run are read as one byte string, and the tasks touched and the tasks ended are
        picked out of it with ``bytes.translate`` and ``itertools.compress``.
        """
        packed, new = self.packed, self.new_tasks
        # before the copy: a try reported running here returns after it, in this batch or later
        live = self.poll() if self.poll is not None else b""
        if not (packed or new or live) or self.lost is not None:
            return
        data = bytes(packed)
        # What was put since the copy stays at the end: each call is one C call under the GIL.
        # The copy comes first: a task's first event is queued after the task itself, so each
        # task with its first event in ``data`` is in ``fresh``.
        del packed[: len(data)]
        fresh = new[:]
        del new[: len(fresh)]
        # after the copy: every name an event in it points to (see name_of)
        names = self.names[self._names_sent :]
        self._names_sent += len(names)
        codes = data[8 :: EVENT.size]  # the low byte of each event's code: its state
        if _MARKER_CODE in codes:  # executor messages among them: each in its place
            segments = _segments(data, codes, self.events)
        else:  # the usual case with thread executors
            segments = [data] if data else []
        if live:
            segments.insert(0, live)
        records, depends = self._records, self._depends
        # New plain tasks are read at C speed into one flat list of their values, not a tuple
        # each: a batch's thousands of tuples lived through the loop, so the garbage collector
        # moved them through its generations and walked them on the way.
        plain = list(map(eq, map(_PLAIN_MARKS, fresh), repeat(_PLAIN)))
        if depends:  # a task whose dependencies were kept is not plain even once they are cleared
            plain = list(map(gt, plain, map(depends.__contains__, map(_task_id, fresh))))
        flat = list(chain.from_iterable(map(_PLAIN_VALUES, compress(fresh, plain))))
        snapshots = {}
        for task in compress(fresh, map(not_, plain)):
            tid = task.id
            records[tid] = task  # read again whenever the kernel reports on it
            # the kernel sets a task's dependencies just after its pending event
            snapshots[tid] = task_snapshot(task, depends.get(tid) or task.depends)
        if records:
            tids = memoryview(data).cast("q")[0::3].tolist()
            for tid in set(compress(tids, codes.translate(_KERNEL_TABLE))):
                task = records.get(tid)
                if task is not None:
                    snapshots[tid] = task_snapshot(task, depends.get(tid) or task.depends)
            final = list(compress(tids, codes.translate(_FINAL_TABLE)))
            if final:
                _exhaust(map(records.pop, final, repeat(None)))
                if depends:
                    _exhaust(map(depends.pop, final, repeat(None)))
        self._send(("batch", segments, snapshots, flat, names))

    def _send(self, obj: Any) -> None:
        data = encode_frame(obj)
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            # the process is gone: its reader thread says how; stop sending
            self._lose(None)

    # ------------------------------------------------------------ reader thread
    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        failed = None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "log" in msg:
                self._relog(*msg["log"])
            if "stats" in msg:
                self.stats = msg["stats"]
            if "failed" in msg:
                failed = msg["failed"]
            if "ready" in msg:
                self.ready.set()
            if "done" in msg:
                self.result = msg["done"]
        try:
            self._ended(failed)
        finally:
            self.ready.set()  # after _lose: start() sees a writer that failed as lost

    def _ended(self, failed: str | None) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        if failed is not None:
            logger.error(
                "Monitoring could not open its database %s (%s); this workflow is not monitored",
                safe_url(self.url),
                failed,
            )
            self._lose("the database could not be opened")
        elif self.result is None:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            logger.error(
                "Monitoring's writer process (pid %d) %s before the workflow ended; the workflow goes "
                "on, but its monitoring rows from now on are not recorded",
                self.proc.pid,
                how,
            )
            self._lose(f"the writer process {how}")

    def _relog(self, name: str, level: int, text: str, exc: str | None) -> None:
        record = logging.LogRecord(name, level, "(monitoring writer process)", 0, text, None, None)
        record.exc_text = exc
        if self.proc is not None:
            record.process = self.proc.pid
        logging.getLogger(name).handle(record)

    def _lose(self, why: str | None) -> None:
        """Stop queueing and sending: the writer process cannot take more."""
        with self._lost_lock:
            if self.lost is not None:
                if why is not None and self.lost == "?":
                    self.lost = why
                return
            self.lost = why or "?"
        self._wakeup.set()
        self.events.clear()
        self.packed.clear()
        self.new_tasks.clear()
        self._records.clear()
        self._depends.clear()
        if self.on_lost is not None:
            try:
                self.on_lost()
            except Exception:
                logger.exception("Monitoring's handler of a lost writer process failed")
