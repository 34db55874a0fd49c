"""Exceptions raised by execution providers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from parsl.errors import ParslError

if TYPE_CHECKING:
    from parsl.providers.base import ExecutionProvider

__all__ = [
    "ExecutionProviderException",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SubmitException",
]


class ExecutionProviderException(ParslError):
    """Base class of provider errors; raised directly when no narrower class fits."""


class ScaleOutFailed(ExecutionProviderException):
    """The provider could not obtain a new block."""

    def __init__(self, provider: ExecutionProvider | str, reason: str) -> None:
        super().__init__(provider, reason)
        self.provider = provider
        self.reason = reason

    def __str__(self) -> str:
        return f"Unable to scale out {self.provider} provider: {self.reason}"


class SchedulerMissingArgs(ExecutionProviderException):
    """The submit-script template names a ``$variable`` that the provider did not supply."""

    def __init__(self, missing_keywords: Sequence[str], sitename: str) -> None:
        super().__init__(missing_keywords, sitename)
        self.missing_keywords = missing_keywords
        self.sitename = sitename

    def __str__(self) -> str:
        return f"SchedulerMissingArgs: Pool:{self.sitename} Arg:{self.missing_keywords}"


class ScriptPathError(ExecutionProviderException):
    """The submit script could not be written."""

    def __init__(self, script_path: str, reason: BaseException | str) -> None:
        super().__init__(script_path, reason)
        self.script_path = script_path
        self.reason = reason

    def __str__(self) -> str:
        return f"Unable to write submit script:{self.script_path} Reason:{self.reason}"


class SubmitException(ExecutionProviderException):
    """``submit()`` failed to launch a job."""

    def __init__(
        self,
        job_name: str,
        message: str,
        stdout: str | None = None,
        stderr: str | None = None,
        retcode: int | None = None,
    ):
        # ``args`` stays what the caller passed, as in Parsl
        self.job_name = job_name
        self.message = message
        self.stdout = stdout
        self.stderr = stderr
        self.retcode = retcode

    # rebuilt from the attributes: keyword-only construction pickles too
    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.job_name, self.message, self.stdout, self.stderr, self.retcode),
            self.__dict__,
        )

    @property
    def task_name(self) -> str:
        """Old name of ``job_name`` (deprecated, as in Parsl)."""
        warnings.warn(
            "SubmitException.task_name is deprecated; use job_name", DeprecationWarning, stacklevel=2
        )
        return self.job_name

    def __str__(self) -> str:
        return (
            f"Cannot launch job {self.job_name}: {self.message}; retcode={self.retcode}, "
            f"stdout={self.stdout}, stderr={self.stderr}"
        )
