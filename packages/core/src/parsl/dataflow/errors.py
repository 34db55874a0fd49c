"""Exceptions raised by the DataFlowKernel (``parsl.dataflow.errors``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any

from parsl.errors import ConfigurationError, ParslError

__all__ = [
    "BadCheckpoint",
    "ConfigurationError",
    "DataFlowException",
    "DependencyError",
    "DuplicateTaskError",
    "JoinError",
    "MissingFutError",
    "PropagatedException",
    "failures_of",
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

    def __init__(
        self,
        dependent_exceptions_tids: Sequence[tuple[BaseException, str]],
        task_id: int | None,
        *,
        failure_description: str,
    ):
        super().__init__(dependent_exceptions_tids, task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id = task_id
        self._failure_description = failure_description
        self._root_cause = cause = self._find_any_root_cause()
        if cause is not self:
            self.__cause__ = cause

    def __reduce__(self) -> tuple[Callable[..., PropagatedException], tuple[Any, ...]]:
        return (
            _rebuild_propagated,
            (type(self), self.dependent_exceptions_tids, self.task_id, self._failure_description),
        )

    @property
    def dependent_exceptions(self) -> list[BaseException]:
        return [e for e, _ in self.dependent_exceptions_tids]

    def _find_any_root_cause(self) -> BaseException:
        # O(1): a propagated input already knows its root cause and chain length, so a chain
        # of N failed tasks costs N steps in all, not N**2 (10,000-deep failing chains are fine)
        tids = self.dependent_exceptions_tids
        if not tids:
            self._chain_len, self._last_desc = 0, ""
            return self
        first, desc = tids[0]
        desc = str(desc) + (" (+ others)" if len(tids) > 1 else "")
        if isinstance(first, PropagatedException) and first._chain_len:
            self._chain_len, self._last_desc = first._chain_len + 1, first._last_desc
            return first._root_cause
        self._chain_len, self._last_desc = 1, desc
        return first

    def _cause_sequence(self, limit: int = 20) -> list[str]:
        """Descriptions of the failures leading to the root cause (long chains elided)."""
        seen: list[str] = []
        e: BaseException = self
        while isinstance(e, PropagatedException) and e.dependent_exceptions_tids and len(seen) < limit:
            first_exc, first_desc = e.dependent_exceptions_tids[0]
            desc = str(first_desc)
            if len(e.dependent_exceptions_tids) > 1:
                desc += " (+ others)"
            seen.append(desc)
            e = first_exc
        if self._chain_len > len(seen):
            if self._chain_len > len(seen) + 1:
                seen.append(f"... {self._chain_len - len(seen) - 1} more ...")
            seen.append(self._last_desc)
        return seen

    def __str__(self) -> str:
        return (
            f"{self._failure_description} for task {self.task_id}. "
            f"The representative cause is via {' <- '.join(self._cause_sequence())}"
        )


def _rebuild_propagated(
    cls: type[PropagatedException],
    deps: Sequence[tuple[BaseException, str]],
    task_id: int | None,
    failure_description: str,
) -> PropagatedException:
    obj = cls.__new__(cls)
    PropagatedException.__init__(obj, deps, task_id, failure_description=failure_description)
    return obj


class DependencyError(PropagatedException):
    """A task's input futures failed, so the task did not run.

    ``dependent_exceptions_tids`` lists ``(exception, description)`` for each failed input,
    the description naming it, e.g. ``'task 3'`` or ``'DataFuture from task 3'``.
    """

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]], task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Dependency failure")


class JoinError(PropagatedException):
    """A join app's inner futures failed."""

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]], task_id: int | None):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Join failure")


def failures_of(
    futures: Iterable[Future[Any]], describe: Callable[[Future[Any]], str]
) -> list[tuple[BaseException, str]]:
    """``(exception, description)`` for each failed or cancelled future among ``futures``."""
    failed = []
    for f in futures:
        try:
            e = f.exception()
        except CancelledError:
            e = CancelledError(f"{describe(f)} was cancelled")
        if e is not None:
            failed.append((e, describe(f)))
    return failed
