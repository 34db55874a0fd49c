"""``JSONLogging``: every log record of the process as one JSON object per line (``parsl.jsonlog``)."""

from __future__ import annotations

import json
import logging
import pathlib
from collections.abc import Callable
from typing import Any

from parsl.logconfigs.base import LogConfig, level_from_env

__all__ = ["JSONFormatter", "JSONLogging"]

# LogRecord attributes that are plumbing rather than content
_SKIP = frozenset(
    {
        "args",
        "msg",
        "exc_info",
        "exc_text",
        "stack_info",
        "relativeCreated",
        "msecs",
        "levelno",
        "pathname",
        "filename",
        "module",
        "funcName",
        "taskName",
    }
)


class JSONFormatter(logging.Formatter):
    """Render a record as one JSON line: standard fields, ``msg``, ``formatted`` and every ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "created": record.created,
            "name": record.name,
            "levelname": record.levelname,
            "lineno": record.lineno,
            "funcname": record.funcName,
            "process": record.process,
            "processName": record.processName,
            "thread": record.thread,
            "threadName": record.threadName,
            "msg": str(record.msg),
            "formatted": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _SKIP or key in doc:
                continue
            doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=repr)


class JSONLogging(LogConfig):
    """Append every record of this process (root logger) to ``<log_dir>/<log_name>.jsonlog``.

    Keys given with ``extra={"parsl.task": 3}`` become keys of the JSON object. ``level``
    defaults to ``$PARSL_LOG_LEVEL`` or INFO.
    """

    def __init__(self, *, level: int | None = None) -> None:
        super().__init__()
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        level = level_from_env(self.level)
        handler = logging.FileHandler(pathlib.Path(log_dir) / f"{log_name}.jsonlog")
        handler.setLevel(level)
        handler.setFormatter(JSONFormatter())
        root = logging.getLogger()
        parsl_logger = logging.getLogger("parsl")
        old_root, old_parsl = root.level, parsl_logger.level
        if root.level > level:
            root.setLevel(level)
        if parsl_logger.level == logging.NOTSET or parsl_logger.level > level:
            parsl_logger.setLevel(level)
        root.addHandler(handler)

        def undo() -> None:
            root.removeHandler(handler)
            handler.close()
            root.setLevel(old_root)
            parsl_logger.setLevel(old_parsl)

        return undo

    def __repr__(self) -> str:
        return f"JSONLogging(level={self.level!r})"
