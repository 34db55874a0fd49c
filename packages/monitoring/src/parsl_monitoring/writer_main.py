"""The monitoring database writer's own process: ``python -m parsl_monitoring.writer_main``.

:class:`~parsl_monitoring.writer_process.WriterProcess` starts it from the workflow process and
talks to it over the process's standard streams, so the database work (turning events into
rows, converting timestamps, the driver's executemany, outages and spill files) never holds the
workflow process's GIL:

- standard input, from the workflow process: frames, each a 4-byte big-endian length and a
  pickle. ``("start", settings)`` first, then ``("batch", segments, snapshots, plain, names)``: the hub's
  queued events in order (runs of packed state changes joined into one string each, see
  :func:`~parsl_monitoring.writer_process.unpack_events`, and executors' message batches) and,
  per task touched, a :func:`~parsl_monitoring.task_values.task_snapshot` (in ``snapshots``) or,
  for most, its plain values (in ``plain``, one flat list: see
  :func:`~parsl_monitoring.task_values.plain_snapshots`), and the (app name, executor) pairs
  added to ``WriterProcess.names`` since the last batch, which new plain tasks' events name;
  then ``("end", workflow end values, timeout)``. The end of the stream without an ``end``
  frame means the workflow process is gone: what arrived is written, and the process exits.
- standard output, to the workflow process: one JSON object a line: ``{"log": [...]}`` (a log
  record, re-logged there, so the workflow's own logging and its ``database_manager.log`` get
  it), ``{"stats": {...}}`` now and then, ``{"ready": true}`` once the database is open
  (tables made), ``{"failed": "..."}`` when it cannot be opened, ``{"done": {...}}`` after the
  last row.

Inside, a :class:`~parsl_monitoring.writer.DatabaseWriter` thread does what it does in-process;
this module's main thread only reads frames into its queue.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import select
import struct
import sys
import threading
import time
from typing import Any

__all__ = ["encode_frame", "main", "read_frame"]

logger = logging.getLogger("parsl.monitoring.writer")

_LENGTH = struct.Struct(">I")
#: seconds between two stats lines, and between two checks that the workflow process is there
STATS_PERIOD = 0.5
#: how much lower the writer process's scheduling priority is than the workflow process's
NICE = 10


def encode_frame(obj: Any) -> bytes:
    """One frame of the input stream: ``obj``'s pickle after its length."""
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def _read_exact(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def read_frame(fd: int) -> Any:
    """The next frame's object from ``fd``, or None at the end of the stream (or a frame cut short)."""
    head = _read_exact(fd, _LENGTH.size)
    if head is None:
        return None
    body = _read_exact(fd, _LENGTH.unpack(head)[0])
    return None if body is None else pickle.loads(body)


class _Reporter:
    """Writes the JSON lines of the output stream (from the main thread and the writer's)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        #: the workflow process stopped reading (it was killed): reports go nowhere from then on
        self.gone = False

    def __call__(self, obj: dict[str, Any]) -> bool:
        """Write one line; False once nobody reads them. Never raises for a closed stream: a
        workflow process killed mid-run must not stop the writer before it writes what it was
        sent (it sees the end of its input next and finishes)."""
        if self.gone:
            return False
        data = memoryview((json.dumps(obj, default=str) + "\n").encode())
        with self.lock:
            try:
                while data:
                    data = data[os.write(self.fd, data) :]
            except OSError:  # EPIPE: the reading end is closed
                self.gone = True
                return False
        return True


class _ForwardHandler(logging.Handler):
    """Sends each log record to the workflow process, which logs it there."""

    def __init__(self, report: _Reporter) -> None:
        super().__init__()
        self.report = report
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc = self._formatter.formatException(record.exc_info) if record.exc_info else None
            self.report({"log": [record.name, record.levelno, record.getMessage(), exc]})
        except Exception:
            self.handleError(record)


def _stats(writer: Any) -> dict[str, Any]:
    backlog = writer.backlog
    return {
        "rows_written": writer.rows_written,
        "batches_failed": writer.batches_failed,
        "backlog_rows": backlog.rows if backlog else 0,
        "spill_path": backlog.path if backlog is not None else None,
        "queued": len(writer.events),
        "live": len(writer._live),
        "try_rows": len(writer._try_rows),
    }


def main() -> int:
    """Run the writer until the workflow process ends the stream; the exit code says how it went."""
    # The output stream is the protocol's: anything else printing goes to stderr instead.
    report = _Reporter(os.dup(1))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    parent = os.getppid()
    start = read_frame(0)
    if not isinstance(start, tuple) or start[0] != "start":
        return 2
    settings = start[1]
    try:
        # Rows can wait; the workflow's own processes cannot: on a busy machine the writer
        # process takes the CPU they leave (it catches up later, at shutdown at the latest).
        os.nice(int(settings.get("nice", NICE)))
    except OSError:
        pass
    target = logging.getLogger("parsl.monitoring")
    target.setLevel(settings.get("level", logging.INFO))
    target.addHandler(_ForwardHandler(report))
    target.propagate = False

    from parsl_monitoring.task_values import plain_snapshots
    from parsl_monitoring.writer import DatabaseWriter
    from parsl_monitoring.writer_process import unpack_events

    run_id = settings["run_id"]

    try:
        writer = DatabaseWriter(
            settings["url"],
            settings["run_id"],
            spill_dir=settings.get("spill_dir"),
            max_buffered_rows=settings.get("max_buffered_rows"),
        )
    except Exception as e:
        text = str(e).strip().splitlines()
        report({"failed": f"{type(e).__name__}: {text[0] if text else ''}"})
        return 3
    writer.workflow_started(settings["workflow"])
    writer.start()
    report({"ready": True})
    records, events = writer._records, writer.events
    names: list[tuple[str, str]] = []  # see WriterProcess.names
    end: dict[str, Any] | None = None
    timeout = float(settings.get("timeout", 30.0))
    last: dict[str, Any] | None = None
    next_stats = 0.0
    while True:
        readable, _, _ = select.select([0], [], [], STATS_PERIOD)
        if readable:
            frame = read_frame(0)
            if frame is None:
                logger.warning(
                    "Monitoring's workflow process ended without stopping its writer; the rows it sent are written"
                )
                break
            if frame[0] == "batch":
                records.update(frame[2])  # before the events that need them
                records.update(plain_snapshots(frame[3]))
                names.extend(frame[4])
                for segment in frame[1]:
                    if type(segment) is bytes:
                        events.extend(unpack_events(segment, run_id, names, records))
                    else:
                        events.append(segment)
                writer.wake()
            elif frame[0] == "end":
                end, timeout = frame[1], float(frame[2])
                break
        elif os.getppid() != parent:  # the stream is held open by someone else: still, the parent is gone
            logger.warning("Monitoring's workflow process is gone; the rows it sent are written")
            break
        now = time.monotonic()
        if now >= next_stats:
            next_stats = now + STATS_PERIOD
            stats = _stats(writer)
            if stats != last:
                report({"stats": stats})
                last = stats
    if end is not None:
        writer.workflow_finished(end)
    ok = writer.close(timeout)
    told = report(
        {
            "stats": _stats(writer),
            "done": {"ok": ok, "spill_file": writer.spill_file, "rows_written": writer.rows_written},
        }
    )
    if not told:  # the workflow process is gone: nobody to tell
        return 0 if end is None else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
