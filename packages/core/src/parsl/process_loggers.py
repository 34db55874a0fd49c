"""``wrap_with_logs``: log how a long-lived function (a thread or process body) ended."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["wrap_with_logs"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def wrap_with_logs(fn: F) -> F: ...


@overload
def wrap_with_logs(fn: None = None, *, target: str | None = None) -> Callable[[F], F]: ...


def wrap_with_logs(fn: Callable[..., Any] | None = None, *, target: str | None = None) -> Any:
    """Decorate ``fn`` to log ``Normal ending for <name>`` (DEBUG) when it returns and
    ``Exceptional ending for <name>`` (ERROR, with the traceback) when it raises.

    The return value and the exception pass through unchanged. Records go to the logger
    named ``target`` (default: the logger of ``fn``'s module). Usable as ``@wrap_with_logs``
    or ``@wrap_with_logs(target="parsl.process")``.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        log = logging.getLogger(target or getattr(func, "__module__", None) or __name__)
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = func(*args, **kwargs)
            except BaseException:
                log.exception("Exceptional ending for %s", name)
                raise
            log.debug("Normal ending for %s", name)
            return result

        return wrapper

    if fn is None:
        return decorate
    return decorate(fn)
