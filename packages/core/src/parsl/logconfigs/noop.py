"""``NoopLogging``: leave the process's logging exactly as it is."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from parsl.logconfigs.base import LogConfig

__all__ = ["NoopLogging"]


class NoopLogging(LogConfig):
    """Set nothing up (like ``initialize_logging=False``); the application configures logging."""

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        return lambda: None

    def __repr__(self) -> str:
        return "NoopLogging()"
