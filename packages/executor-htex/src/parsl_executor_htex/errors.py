"""Errors raised by the HighThroughputExecutor, importable from ``parsl.executors.high_throughput.errors``."""

from __future__ import annotations

from parsl.errors import ParslError

__all__ = [
    "CommandClientBadError",
    "CommandClientTimeoutError",
    "HighThroughputExecutorError",
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
    """The worker pool runs a different Python or parsl-executor-htex version than the workflow."""

    def __init__(self, interchange_version: str, manager_version: str):
        super().__init__(interchange_version, manager_version)
        self.interchange_version = interchange_version
        self.manager_version = manager_version

    def __str__(self) -> str:
        return (
            f"Manager version info {self.manager_version} does not match interchange version info "
            f"{self.interchange_version}, causing a critical failure; install the same versions "
            f"on the workers as in the workflow's environment"
        )


class CommandClientTimeoutError(HighThroughputExecutorError):
    """The interchange did not answer a command in time."""


class CommandClientBadError(HighThroughputExecutorError):
    """The command channel to the interchange is unusable after an earlier timeout."""


class InterchangeStartError(HighThroughputExecutorError):
    """The interchange process failed to start; the message holds its log tail."""
