"""``parsl.executors.workqueue``: Parsl's Work Queue executor (not shipped by parslcore)."""

from __future__ import annotations

from parsl.executors.workqueue.executor import WorkQueueExecutor

__all__ = ["WorkQueueExecutor"]
