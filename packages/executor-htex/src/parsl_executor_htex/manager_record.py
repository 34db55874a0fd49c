"""``ManagerRecord``: the type of what a manager selector is given about each worker pool.

A :class:`~parsl_executor_htex.manager_selector.ManagerSelector` written for Parsl gets
``ready_managers``, ``{manager id: record}``, and annotates the records with this type. The
interchange keeps its own record objects and hands selectors dict views with these keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

__all__ = ["ManagerRecord"]


class ManagerRecord(TypedDict, total=False):
    """One worker pool, as selectors see it: every key may be absent."""

    block_id: str | None
    start_time: float
    tasks: list[Any]
    worker_count: int
    max_capacity: int
    active: bool
    draining: bool
    drain_time: float
    hostname: str
    last_heartbeat: float
    idle_since: float | None
    timestamp: datetime
    parsl_version: str
    python_version: str
    packages: dict[str, str]
