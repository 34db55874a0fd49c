"""Kinds of monitoring message and the shapes they travel in (Parsl's ``parsl.monitoring.types``).

A monitoring message is a dict; tagged with its :class:`MessageType` it becomes a
``TaggedMonitoringMessage``, the ``(kind, body)`` pair that executors put on their
``monitoring_messages`` queue when software drives them without a DataFlowKernel (an engine
that sets ``executor.monitoring_messages = queue`` before ``start()``). The body of a
``BLOCK_INFO`` message is a list of dicts, one per block; every other kind carries one dict.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeAlias

__all__ = ["MessageType", "MonitoringMessage", "TaggedMonitoringMessage"]


class MessageType(Enum):
    """What a monitoring message reports (the values are Parsl's, stable across versions)."""

    #: a task's state changed in the workflow process
    TASK_INFO = 0
    #: a resource usage sample of a task's processes
    RESOURCE_INFO = 1
    #: the workflow started or ended
    WORKFLOW_INFO = 2
    #: a worker pool (node) registered, took tasks, was held or left; carries ``block_id`` and ``tasks``
    NODE_INFO = 3
    #: block status from the provider
    BLOCK_INFO = 4
    #: a task started or finished running on a worker
    WORKER_TASK_INFO = 5


MonitoringMessage: TypeAlias = dict[str, Any]
TaggedMonitoringMessage: TypeAlias = tuple[MessageType, MonitoringMessage]
