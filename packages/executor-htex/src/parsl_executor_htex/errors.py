"""Errors raised by the HighThroughputExecutor, importable from ``parsl.executors.high_throughput.errors``."""

from __future__ import annotations

from collections.abc import Mapping

from parsl.errors import ParslError
from parsl.executors.errors import ExecutorError

__all__ = [
    "CommandClientBadError",
    "CommandClientTimeoutError",
    "HighThroughputExecutorError",
    "InterchangeLost",
    "InterchangeStartError",
    "ManagerLost",
    "VersionMismatch",
    "WorkerLost",
]


class HighThroughputExecutorError(ParslError):
    """Base class of the errors below."""


class WorkerLost(HighThroughputExecutorError):
    """The worker process running a task died before returning a result."""

    def __init__(self, worker_id: object, hostname: str, reason: str = ""):
        super().__init__(worker_id, hostname)
        self.worker_id = worker_id
        self.hostname = hostname
        self.reason = reason

    def __str__(self) -> str:
        extra = f": {self.reason}" if self.reason else ""
        return f"Task failure due to loss of worker {self.worker_id} on host {self.hostname}{extra}"


class ManagerLost(HighThroughputExecutorError):
    """The worker pool (manager) holding a task stopped heartbeating or exited."""

    def __init__(self, manager_id: object, hostname: str, reason: str = ""):
        super().__init__(manager_id, hostname)
        self.manager_id = manager_id
        self.hostname = hostname
        self.reason = reason

    def __str__(self) -> str:
        extra = f": {self.reason}" if self.reason else ""
        return f"Task failure due to loss of manager {self.manager_id} on host {self.hostname}{extra}"


class VersionMismatch(HighThroughputExecutorError):
    """The worker pool runs a different Python (X.Y) or parsl-executor-htex version than the workflow.

    ``fix`` says what differs and what to do; :meth:`between` builds it from the two sides'
    ``messages.version_info()`` dicts."""

    def __init__(self, interchange_version: str, manager_version: str, fix: str = ""):
        super().__init__(interchange_version, manager_version, fix)
        self.interchange_version = interchange_version
        self.manager_version = manager_version
        self.fix = fix

    @classmethod
    def between(cls, ours: Mapping[str, str], theirs: Mapping[str, str], where: str) -> VersionMismatch:
        """The mismatch between the workflow's versions ``ours`` and a pool's ``theirs``."""
        fixes = []
        if theirs.get("python") != ours.get("python"):
            fixes.append(
                f"the worker pool runs Python {theirs.get('python', '(unknown)')} and the workflow "
                f"Python {ours.get('python')}: run the worker pools with Python {ours.get('python')}, "
                f"the workflow's X.Y (set worker_init or launch_cmd to use that interpreter)"
            )
        package = "parsl-executor-htex"
        if theirs.get(package) != ours.get(package):
            fixes.append(
                f"the worker pool has {package} {theirs.get(package, '(unknown)')} and the workflow "
                f"{ours.get(package)}: install {package}=={ours.get(package)} where the pools run"
            )
        for key in sorted(ours.keys() - {"python", package}):
            if theirs.get(key) != ours.get(key):
                fixes.append(
                    f"{key} differs: {theirs.get(key)} on the worker pool, {ours.get(key)} in the workflow"
                )
        return cls(_versions(ours), f"{_versions(theirs)} ({where})", "; ".join(fixes))

    def __str__(self) -> str:
        fix = self.fix or "install the same versions on the workers as in the workflow's environment"
        return (
            f"Manager version info {self.manager_version} does not match interchange version info "
            f"{self.interchange_version}, causing a critical failure: {fix}"
        )


def _versions(info: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(info.items())) or "none reported"


class CommandClientTimeoutError(HighThroughputExecutorError):
    """The interchange did not answer a command in time."""


class CommandClientBadError(HighThroughputExecutorError):
    """The command channel to the interchange is unusable after an earlier timeout."""


class InterchangeStartError(HighThroughputExecutorError):
    """The interchange process failed to start; the message holds its log tail."""


class InterchangeLost(HighThroughputExecutorError, ExecutorError):
    """The interchange died while a worker pool held this task: it may have run, so this try
    failed (the DataFlowKernel retries the task if ``retries`` allow). The executor started a
    new interchange; tasks still queued in the old one were resubmitted without this error."""

    def __init__(self, executor: object, task_id: int, exit_code: int | None):
        ExecutorError.__init__(self, executor, "interchange lost")  # type: ignore[arg-type]
        self.args = (executor, task_id, exit_code)
        self.task_id = task_id
        self.exit_code = exit_code

    def __str__(self) -> str:
        how = f"exit code {self.exit_code}" if self.exit_code is not None else "exit code unknown"
        label = getattr(self.executor, "label", self.executor)
        return (
            f"Executor {label}: the interchange was lost ({how}) while task {self.task_id} ran on a "
            f"worker pool; a new interchange took over, and this try of the task counts as failed"
        )
