"""Logging set-up helpers: ``parsl.set_stream_logger`` and ``parsl.set_file_logger``."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

__all__ = ["DEFAULT_FORMAT", "set_file_logger", "set_stream_logger"]

#: each line starts with the epoch time in seconds (easy to sort and subtract), then a readable date
DEFAULT_FORMAT = (
    "%(created)f %(asctime)s.%(msecs)03d %(name)s:%(lineno)d %(processName)s(%(process)d) "
    "%(threadName)s %(funcName)s %(levelname)s: %(message)s"
)


def _attach(handler: logging.Handler, name: str, level: int, format_string: str | None) -> Callable[[], None]:
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger(name)
    old_level = logger.level
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    logger.addHandler(handler)
    # Libraries that log chattily at DEBUG stay quiet unless asked for.
    for noisy in ("concurrent.futures", "asyncio", "urllib3", "paramiko"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger(noisy).level))

    def remove() -> None:
        logger.removeHandler(handler)
        handler.close()
        # a DEBUG run must not leave later runs logging (and paying for) DEBUG records
        if logger.level == level:
            logger.setLevel(old_level)

    return remove


def set_stream_logger(
    name: str = "parsl",
    level: int = logging.DEBUG,
    format_string: str | None = None,
    stream: io.TextIOBase | None = None,
) -> Callable[[], None]:
    """Send Parsl's log records at ``level`` and above to ``stream`` (default stderr).

    Returns a function that removes the handler again.
    """
    return _attach(logging.StreamHandler(stream), name, level, format_string)


def set_file_logger(
    filename: str, name: str = "parsl", level: int = logging.DEBUG, format_string: str | None = None
) -> Callable[[], None]:
    """Append Parsl's log records at ``level`` and above to ``filename``.

    Returns a function that removes the handler again.
    """
    return _attach(logging.FileHandler(filename), name, level, format_string)
