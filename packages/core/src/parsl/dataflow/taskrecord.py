"""``TaskRecord``: everything the DataFlowKernel knows about one task.

A slotted object for speed; it also answers ``record['id']`` style access, since
Parsl's task records are dicts and user code indexes them.
"""
from __future__ import annotations

from typing import Any, Iterator

from parsl.dataflow.states import States

__all__ = ["TaskRecord"]

_FIELDS = (
    "id", "func", "func_name", "fn_hash", "args", "kwargs", "status", "depends", "app_fu",
    "exec_fu", "executor", "retries_left", "fail_count", "fail_cost", "fail_history",
    "checkpoint", "hashsum", "memoize", "ignore_for_cache", "from_memo", "join", "joins",
    "try_id", "resource_specification", "time_invoked", "time_returned", "try_time_launched",
    "try_time_returned", "outputs", "dfk", "pending_deps", "launched", "app_name",
)


class TaskRecord:
    """One task's state. Attribute access is the fast path; ``rec['name']`` also works."""

    __slots__ = _FIELDS + ("__weakref__",)

    def __init__(self, **fields: Any) -> None:
        self.depends = []
        self.exec_fu = None
        self.executor = None
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history = []
        self.checkpoint = False
        self.hashsum = None
        self.memoize = False
        self.ignore_for_cache = []
        self.from_memo = None
        self.join = False
        self.joins = None
        self.try_id = 0
        self.resource_specification = {}
        self.time_returned = None
        self.try_time_launched = None
        self.try_time_returned = None
        self.outputs = []
        self.status = States.unsched
        self.pending_deps = 0
        self.launched = False
        for k, v in fields.items():
            setattr(self, k, v)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            setattr(self, key, value)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in _FIELDS and hasattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in _FIELDS else default

    def keys(self) -> Iterator[str]:
        return (k for k in _FIELDS if hasattr(self, k))

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __repr__(self) -> str:
        return f"<TaskRecord id={getattr(self, 'id', None)} {getattr(self, 'func_name', '?')} {self.status.name}>"
