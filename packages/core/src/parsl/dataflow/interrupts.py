"""Ctrl-C and SIGTERM during a workflow: stop promptly, keep what is durable.

While a DataFlowKernel loaded from the main thread is alive, SIGINT raises
KeyboardInterrupt (as Python does anyway) and SIGTERM raises ``SystemExit(143)`` instead of
killing the process outright, so ``atexit`` cleanup runs: the final checkpoint is written and
executors are shut down. The kernel then knows it was interrupted and does not wait for
running tasks (see ``DataFlowKernel.cleanup``). Handlers are installed only where Python's
defaults are in place, so a script's own signal handlers are left alone, and the defaults
come back at cleanup.
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from types import FrameType
from typing import Any

__all__ = ["InterruptHandlers", "non_blocking", "shutdown_within"]


class InterruptHandlers:
    """Install SIGINT/SIGTERM handlers that record the signal and unwind the main thread."""

    def __init__(self) -> None:
        #: the signal number that interrupted the workflow, or None
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for signum, default in defaults.items():
            try:
                if signal.getsignal(signum) is default:
                    self._previous[signum] = signal.signal(signum, self._handle)
            except (ValueError, OSError):  # not the main interpreter, or no such signal
                pass

    def restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in self._previous.items():
            try:
                if signal.getsignal(signum) == self._handle:
                    signal.signal(signum, previous)
            except (ValueError, OSError):
                pass
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    def interrupted(self) -> bool:
        """Whether a signal is ending the workflow."""
        return self.received is not None

    def note_exit(self) -> None:
        """At interpreter exit: an uncaught KeyboardInterrupt counts as an interruption too."""
        if self.received is None and isinstance(getattr(sys, "last_value", None), KeyboardInterrupt):
            self.received = signal.SIGINT


def non_blocking(shutdown: Callable[..., Any]) -> Callable[[], Any]:
    """``shutdown(block=False)`` for executors whose shutdown takes ``block`` (running tasks
    are not waited for), else ``shutdown`` itself."""
    try:
        takes_block = "block" in inspect.signature(shutdown).parameters
    except (TypeError, ValueError):
        takes_block = False
    return partial(shutdown, block=False) if takes_block else shutdown


def shutdown_within(
    steps: Iterable[tuple[str, Callable[[], Any]]], seconds: float, on_error: Callable[[str, Exception], None]
) -> list[str]:
    """Run shutdown steps in parallel daemon threads; return the names still running after ``seconds``."""
    threads = []
    for name, step in steps:

        def run(name: str = name, step: Callable[[], Any] = step) -> None:
            try:
                step()
            except Exception as e:
                on_error(name, e)

        t = threading.Thread(target=run, name=f"parsl-shutdown-{name}", daemon=True)
        try:
            t.start()
        except RuntimeError:
            # Python 3.12 starts no thread once the interpreter is exiting, atexit handlers
            # included (3.13 allows it again): run the step here, without the time bound.
            run()
            continue
        threads.append((name, t))
    deadline = time.monotonic() + seconds
    late = []
    for name, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            late.append(name)
    return late
