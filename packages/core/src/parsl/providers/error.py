"""Old import path (Parsl before 1.0) of the provider exceptions."""

from __future__ import annotations

from parsl.providers.errors import (
    ExecutionProviderException,
    ScaleOutFailed,
    SchedulerMissingArgs,
    ScriptPathError,
    SubmitException,
)

__all__ = [
    "ExecutionProviderException",
    "ScaleOutFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SubmitException",
]
