"""``WorkQueueExecutor``: importable, but building one says parslcore does not ship it."""

from __future__ import annotations

from parsl.executors.not_shipped import NotShippedExecutor, Runtime
from parsl.executors.status_handling import BlockProviderExecutor

__all__ = ["WorkQueueExecutor"]


class WorkQueueExecutor(NotShippedExecutor, BlockProviderExecutor):
    """Parsl's executor for CCTools' Work Queue; construction raises ExecutorNotShippedError."""

    runtime = Runtime("Work Queue", ("ndcctools",), "conda install -c conda-forge ndcctools")
    label = "WorkQueueExecutor"
