"""Task events in ``parsl.log`` at INFO without a log call per task.

The DataFlowKernel hands each event as a ``(time, task id, event, app name, detail, try)``
tuple to ``record``, which adds its six values to one flat deque (a few tens of
nanoseconds; the tuple itself is freed at once, so queued events are plain values the
garbage collector never walks). A background thread turns them into lines four times a
second and at cleanup, in records of at most 5,000 lines, so task start, end and failure
are visible in parsl.log at INFO while the per-task path stays free of logging, and the
backlog a fast workflow builds between two flushes stays small.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

__all__ = ["TaskEventLog"]

logger = logging.getLogger("parsl.dataflow.tasks")

#: events per log record: a busy second's lines go out in several records of bounded size
_LINES_PER_RECORD = 5_000


class TaskEventLog:
    """Buffer task events and write them to the ``parsl.dataflow.tasks`` logger in batches."""

    def __init__(self, period: float = 0.25) -> None:
        self.enabled = logger.isEnabledFor(logging.INFO)
        self._events: deque[Any] = deque()  # six values per event, in record order
        self.record = self._events.extend
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._period = period
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="parsl-task-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            self.flush()

    def flush(self) -> None:
        events = self._events
        pop = events.popleft
        strftime, localtime = time.strftime, time.localtime
        last_second, prefix = -1, ""
        # whole events only: record() adds an event's six values at once, under the GIL
        left = len(events) // 6
        while left:
            lines = []
            for _ in range(min(left, _LINES_PER_RECORD)):
                t, tid, event, name, detail, try_id = pop(), pop(), pop(), pop(), pop(), pop()
                second = int(t)
                if second != last_second:  # one strftime per second of events, not per event
                    last_second, prefix = second, strftime("%H:%M:%S", localtime(second))
                line = f"{prefix}.{int(t * 1000) % 1000:03d} task {tid} {event} {name}"
                if detail is not None:
                    line += f" on {detail}" if event == "launched" else f": {detail}"
                if try_id:
                    line += f" (try {try_id})"
                lines.append(line)
            left -= len(lines)
            logger.info("task events:\n  %s", "\n  ".join(lines))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self.flush()
