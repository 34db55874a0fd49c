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


class PropagatedException(DataFlowException):
    """Failures of other tasks that made this task fail.

    ``dependent_exceptions_tids`` lists ``(exception, description)`` pairs, where the
    description names the failed future, e.g. ``'task 3'``. ``__cause__`` is set to a
    representative root cause (the first failure, followed through chains of propagated
    failures), so tracebacks show the original error.
    """

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]],
                 task_id: int | None, *, failure_description: str):
        super().__init__(dependent_exceptions_tids, task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id = task_id
        self._failure_description = failure_description
        cause, self._cause_sequence = self._find_any_root_cause()
        if cause is not self:
            self.__cause__ = cause

    def __reduce__(self):  # type: ignore[override]
        return (_rebuild_propagated, (type(self), self.dependent_exceptions_tids, self.task_id,
                                      self._failure_description))

    @property
    def dependent_exceptions(self) -> list[BaseException]:
        return [e for e, _ in self.dependent_exceptions_tids]

    def _find_any_root_cause(self) -> tuple[BaseException, list[str]]:
        e: BaseException = self
        seen: list[str] = []
        while isinstance(e, PropagatedException) and e.dependent_exceptions_tids:
            first_exc, first_desc = e.dependent_exceptions_tids[0]
            desc = str(first_desc)
            if len(e.dependent_exceptions_tids) > 1:
                desc += " (+ others)"
            seen.append(desc)
            e = first_exc
        return e, seen

    def __str__(self) -> str:
        return (f"{self._failure_description} for task {self.task_id}. "
                f"The representative cause is via {' <- '.join(self._cause_sequence)}")


def _rebuild_propagated(cls: type, deps: Sequence[tuple[BaseException, str]], task_id: int | None,
                        failure_description: str) -> "PropagatedException":
    obj = cls.__new__(cls)
    PropagatedException.__init__(obj, deps, task_id, failure_description=failure_description)
    return obj


class DependencyError(PropagatedException):
    """A task's input futures failed, so the task did not run.

    ``dependent_exceptions_tids`` lists ``(exception, description)`` for each failed input,
    the description naming it, e.g. ``'task 3'`` or ``'DataFuture from task 3'``.
    """

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]],
                 task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Dependency failure")


class JoinError(PropagatedException):
    """A join app's inner futures failed."""

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]],
                 task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Join failure")
