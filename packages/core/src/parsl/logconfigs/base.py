"""``LogConfig``: a picklable description of how a process sets up logging, applied once.

A log configuration may reach one process several times (the DataFlowKernel and, say, an
executor both holding a copy that travelled through pickle). Every copy keeps the ``uuid``
of the original, and :func:`oneshot_initialize_logging` counts users per ``uuid``: logging
is set up by the first user and torn down when the last one leaves.
"""

from __future__ import annotations

import logging
import os
import pathlib
import threading
import uuid as _uuid
from abc import ABC, abstractmethod
from collections.abc import Callable

__all__ = ["LogConfig", "oneshot_initialize_logging", "oneshot_uninitialize_logging"]

logger = logging.getLogger(__name__)


class LogConfig(ABC):
    """How to set up logging in a process; subclass and implement :meth:`initialize_logging`."""

    def __init__(self) -> None:
        #: identity shared by every (unpickled) copy of this configuration
        self.uuid = _uuid.uuid4()

    @abstractmethod
    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        """Set logging up, writing under ``log_dir`` with names based on ``log_name``.

        Returns a callable that undoes exactly what this call did.
        """


def level_from_env(level: int | None) -> int:
    """``level`` if given, else ``$PARSL_LOG_LEVEL`` (a level name), else INFO."""
    if level is not None:
        return level
    name = os.environ.get("PARSL_LOG_LEVEL", "INFO").upper()
    value = logging.getLevelName(name)
    return value if isinstance(value, int) else logging.INFO


class _LogContext:
    __slots__ = ("uninit_callback", "users")

    def __init__(self, uninit_callback: Callable[[], None]) -> None:
        self.uninit_callback = uninit_callback
        self.users = 1


_lock = threading.Lock()
#: live log set-ups of this process, by LogConfig uuid
_initialized_log_contexts: dict[_uuid.UUID, _LogContext] = {}


def oneshot_initialize_logging(*, log_config: LogConfig, log_dir: pathlib.Path | str, log_name: str) -> None:
    """Apply ``log_config`` unless a copy of it is already applied in this process."""
    with _lock:
        ctx = _initialized_log_contexts.get(log_config.uuid)
        if ctx is not None:
            ctx.users += 1
            return
        undo = log_config.initialize_logging(log_dir=pathlib.Path(log_dir), log_name=log_name)
        _initialized_log_contexts[log_config.uuid] = _LogContext(undo if callable(undo) else _nothing)
    logger.debug("Initialized logging with %r", log_config)


def oneshot_uninitialize_logging(*, log_config: LogConfig) -> None:
    """Release one use of ``log_config``; the last release undoes its set-up."""
    with _lock:
        ctx = _initialized_log_contexts.get(log_config.uuid)
        if ctx is None:
            return
        ctx.users -= 1
        if ctx.users > 0:
            return
        del _initialized_log_contexts[log_config.uuid]
    ctx.uninit_callback()


def _nothing() -> None:
    pass
