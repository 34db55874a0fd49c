"""Exceptions raised by the DataFlowKernel (``parsl.dataflow.errors``)."""
from __future__ import annotations

from typing import Sequence

from parsl.errors import ConfigurationError, ParslError

__all__ = [
    "DataFlowException",
    "ConfigurationError",
    "DuplicateTaskError",
    "MissingFutError",
    "BadCheckpoint",
    "DependencyError",
    "JoinError",
    "PropagatedException",
]


class DataFlowException(ParslError):
    """Base class for DataFlowKernel errors."""


class DuplicateTaskError(DataFlowException):
    """A task with the same id was launched twice."""


class MissingFutError(DataFlowException):
    """A future was not found in the DataFlowKernel's tables."""


class BadCheckpoint(DataFlowException):
    """A checkpoint file could not be loaded."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _describe(dependent_exceptions_tids: Sequence[tuple[BaseException, str | None]]) -> str:
    names = []
    for exc, tid in dependent_exceptions_tids:
        names.append(f"task {tid}" if tid is not None else f"<{type(exc).__name__}>")
    return ", ".join(names)


class PropagatedException(DataFlowException):
    """Failures of other tasks that made this task fail without running."""

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str | None]],
                 task_id: int | None, *, failure_description: str):
        super().__init__(dependent_exceptions_tids, task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id = task_id
        self._failure_description = failure_description

    @property
    def dependent_exceptions(self) -> list[BaseException]:
        return [e for e, _ in self.dependent_exceptions_tids]

    def __str__(self) -> str:
        return (f"{self._failure_description} for task {self.task_id}: "
                f"{_describe(self.dependent_exceptions_tids)} failed")


class DependencyError(PropagatedException):
    """A task's input futures failed, so the task did not run.

    ``dependent_exceptions_tids`` lists ``(exception, task id)`` for each failed input.
    """

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str | None]],
                 task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Dependency failure")


class JoinError(PropagatedException):
    """A join app's inner futures failed."""

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str | None]],
                 task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Join failure")
