"""``FileLogging``: Parsl's log records to ``<log_dir>/<log_name>.log`` (the default ``parsl.log``)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from parsl.log_utils import set_file_logger
from parsl.logconfigs.base import LogConfig, level_from_env

__all__ = ["FileLogging"]


class FileLogging(LogConfig):
    """Write the ``parsl`` logger's records to a plain text file in the run directory.

    ``level`` defaults to ``$PARSL_LOG_LEVEL`` or INFO (DEBUG adds one record per task
    state change); ``format_string`` is a :mod:`logging` format.
    """

    def __init__(self, *, level: int | None = None, format_string: str | None = None) -> None:
        super().__init__()
        self.level = level
        self.format_string = format_string

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        return set_file_logger(
            str(pathlib.Path(log_dir) / f"{log_name}.log"),
            level=level_from_env(self.level),
            format_string=self.format_string,
        )

    def __repr__(self) -> str:
        return f"FileLogging(level={self.level!r}, format_string={self.format_string!r})"
