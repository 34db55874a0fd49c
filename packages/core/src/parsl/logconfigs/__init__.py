"""Log configurations to pass as ``Config(initialize_logging=...)``: file, JSON-lines or none."""

from __future__ import annotations

from parsl.logconfigs.base import LogConfig, oneshot_initialize_logging, oneshot_uninitialize_logging
from parsl.logconfigs.file import FileLogging
from parsl.logconfigs.json import JSONLogging
from parsl.logconfigs.noop import NoopLogging

__all__ = [
    "FileLogging",
    "JSONLogging",
    "LogConfig",
    "NoopLogging",
    "oneshot_initialize_logging",
    "oneshot_uninitialize_logging",
]
