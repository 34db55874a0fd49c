"""Multiprocessing helpers shared by executors and monitoring: spawn/fork contexts and
``join_terminate_close_proc`` to end a child process without leaking it."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.process
from typing import Any

__all__ = [
    "ForkContext",
    "SpawnContext",
    "SpawnEvent",
    "SpawnProcess",
    "SpawnQueue",
    "join_terminate_close_proc",
]

logger = logging.getLogger(__name__)

#: the "fork" and "spawn" multiprocessing contexts (spawn is safe with threads running)
ForkContext: Any = multiprocessing.get_context("fork")
SpawnContext: Any = multiprocessing.get_context("spawn")

SpawnProcess = SpawnContext.Process
SpawnEvent = SpawnContext.Event
SpawnQueue = SpawnContext.Queue


def join_terminate_close_proc(process: multiprocessing.process.BaseProcess, *, timeout: float = 30) -> None:
    """Wait up to ``timeout`` seconds for ``process`` to exit, then terminate it (and kill it
    if SIGTERM does not work within another ``timeout``), and release its resources."""
    process.join(timeout)
    if process.exitcode is None:
        logger.error("Process %s did not exit in %s seconds: terminating it", process.name, timeout)
        process.terminate()
        process.join(timeout)
        if process.exitcode is None:
            logger.error("Process %s did not terminate in %s seconds: killing it", process.name, timeout)
            process.kill()
            process.join()
    process.close()
