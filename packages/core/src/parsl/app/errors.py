"""Exceptions raised by apps (``parsl.app.errors``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import wraps
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from parsl.app.remote_traceback import chain_record, frames_of, restore_chain
from parsl.dataflow.errors import DependencyError
from parsl.errors import ParslError

if TYPE_CHECKING:
    from parsl.data_provider.files import File

__all__ = [
    "AppBadFormatting",
    "AppException",
    "AppFailure",
    "AppTimeout",
    "BadStdStreamFile",
    "BashAppNoReturn",
    "BashExitFailure",
    "DependencyError",
    "InvalidAppTypeError",
    "MissingOutputs",
    "NotFutureError",
    "ParslError",
    "RemoteExceptionWrapper",
    "wrap_error",
]

logger = logging.getLogger(__name__)


class NotFutureError(ParslError):
    """A non-future was passed where a future was expected."""


class InvalidAppTypeError(ParslError):
    """An unknown app type was requested."""


class AppException(ParslError):
    """An app raised while running."""


class AppBadFormatting(ParslError):
    """A bash app's body raised while building its command line."""


class AppFailure(AppException):
    """An app failed (kept for old scripts that catch it)."""

    def __init__(self, reason: str, exitcode: int | None = None, retries: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exitcode = exitcode
        self.retries = retries


class BashExitFailure(AppFailure):
    """A bash app's command exited with a non-zero status (``exitcode``).

    A subclass of AppFailure, which 0.9-era scripts catch for the same purpose.
    """

    retries = None  # AppFailure's attributes, kept off the instance: Parsl's has only the two below

    def __init__(self, app_name: str, exitcode: int) -> None:
        AppException.__init__(self, app_name, exitcode)
        self.app_name = app_name
        self.exitcode = exitcode

    @property
    def reason(self) -> str:  # type: ignore[override]  # derived from exitcode, where AppFailure stores it
        return str(self)

    def __str__(self) -> str:
        return f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"


class AppTimeout(AppException):
    """An app ran past its ``walltime``."""


class BashAppNoReturn(AppException, ValueError):
    """A bash app's body returned something other than a command string.

    Also a ValueError, which is what current Parsl raises for a non-str command line.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class MissingOutputs(ParslError):
    """An app finished without creating some of its declared ``outputs``."""

    def __init__(self, reason: str, outputs: Sequence[File | str]) -> None:
        super().__init__(reason, outputs)
        self.reason = reason
        self.outputs = outputs

    def __str__(self) -> str:
        return f"Missing Outputs: {self.outputs}, Reason: {self.reason}"


class BadStdStreamFile(ParslError):
    """A ``stdout``/``stderr`` argument cannot be used as a file."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self._reason = reason  # the attribute name Parsl's has

    @property
    def reason(self) -> str:
        return self._reason

    def __str__(self) -> str:
        return f"Bad Stream File: {self._reason}"


class RemoteExceptionWrapper:
    """An exception raised in another process, with its traceback, ready to be pickled back.

    ``RemoteExceptionWrapper(*sys.exc_info())`` where the task failed; pickle it, and where it
    arrives :meth:`get_exception` (or :meth:`reraise`) gives the exception with its remote
    frames as a real traceback, and its cause and context, nothing added to its ``__dict__``.
    """

    def __init__(
        self, e_type: type[BaseException], e_value: BaseException, traceback: TracebackType | None
    ) -> None:
        self.e_type = e_type
        self.e_value = e_value
        _, _, cause, context, suppress = chain_record(e_value)
        #: ``(filename, lineno, name)`` of each remote frame, outermost first (None: no traceback)
        self.e_traceback = frames_of(traceback) if traceback is not None else None
        self._links = (cause, context, suppress)

    @property
    def cause(self) -> RemoteExceptionWrapper | None:
        """The wrapped ``__cause__`` of the exception, if it has one."""
        record = self._links[0]
        if record is None:
            return None
        wrapper = RemoteExceptionWrapper.__new__(RemoteExceptionWrapper)
        wrapper.e_type, wrapper.e_value, wrapper.e_traceback = type(record[0]), record[0], record[1]
        wrapper._links = record[2:]
        return wrapper

    def get_exception(self) -> BaseException:
        """The exception, with its remote traceback, cause and context restored."""
        cause, context, suppress = self._links
        return restore_chain((self.e_value, self.e_traceback or (), cause, context, suppress))

    def reraise(self) -> None:
        """Raise the exception (its remote frames follow the caller's in the traceback)."""
        logger.debug("Reraising exception of type %s", self.e_type)
        raise self.get_exception()


R = TypeVar("R")


def wrap_error(func: Callable[..., R]) -> Callable[..., R | RemoteExceptionWrapper]:
    """Return a wrapper that returns a RemoteExceptionWrapper instead of raising."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R | RemoteExceptionWrapper:
        try:
            return func(*args, **kwargs)
        except Exception as e:
            return RemoteExceptionWrapper(type(e), e, e.__traceback__)

    return wrapper
