"""``TaskVineExecutor``: importable, but building one says parslcore does not ship it."""

from __future__ import annotations

from parsl.executors.not_shipped import NotShippedExecutor, Runtime
from parsl.executors.status_handling import BlockProviderExecutor

__all__ = ["TaskVineExecutor"]


class TaskVineExecutor(NotShippedExecutor, BlockProviderExecutor):
    """Parsl's executor for CCTools' TaskVine; construction raises ExecutorNotShippedError."""

    runtime = Runtime("TaskVine", ("ndcctools",), "conda install -c conda-forge ndcctools")
    label = "TaskVineExecutor"
