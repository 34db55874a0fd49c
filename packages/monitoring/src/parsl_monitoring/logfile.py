"""The monitoring log file in the run directory: ``database_manager.log`` (or ``.jsonlog``).

Parsl's database manager writes its own log there; parslcore's writer process sends its log
records back to the workflow process (:mod:`parsl_monitoring.writer_process`), so the same file
is made from a handler on the ``parsl.monitoring`` logger there, for the kernel's lifetime. Its form follows ``Config.initialize_logging``: a ``JSONLogging``
gives JSON lines in ``database_manager.jsonlog``, a ``NoopLogging`` gives no file, anything
else (True, False, another log configuration) a plain ``database_manager.log``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

__all__ = ["LOG_NAME", "open_monitoring_log"]

#: the file's name without its extension, as in Parsl
LOG_NAME = "database_manager"
_FORMAT = (
    "%(asctime)s.%(msecs)03d %(name)s:%(lineno)d [%(levelname)s] [%(threadName)s %(thread)d] %(message)s"
)


def open_monitoring_log(run_dir: str, log_config: Any, debug: bool) -> Callable[[], None] | None:
    """Attach the monitoring log file's handler; returns the function that removes it again,
    or None when there is to be no file (or it cannot be opened: that is logged)."""
    from parsl.logconfigs.json import JSONFormatter, JSONLogging
    from parsl.logconfigs.noop import NoopLogging

    if isinstance(log_config, NoopLogging):
        return None
    json = isinstance(log_config, JSONLogging)
    level = logging.DEBUG if debug else logging.INFO
    config_level = getattr(log_config, "level", None)
    if isinstance(config_level, int):
        level = min(level, config_level)
    path = os.path.join(run_dir, LOG_NAME + (".jsonlog" if json else ".log"))
    try:
        os.makedirs(run_dir, exist_ok=True)
        handler = logging.FileHandler(path)
    except OSError:
        logging.getLogger(__name__).exception("Monitoring cannot open its log file %s", path)
        return None
    handler.setLevel(level)
    handler.setFormatter(JSONFormatter() if json else logging.Formatter(_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    # the logger's level is left alone: the file gets what the workflow's logging lets through
    target = logging.getLogger("parsl.monitoring")
    target.addHandler(handler)

    def close() -> None:
        target.removeHandler(handler)
        handler.close()

    return close
