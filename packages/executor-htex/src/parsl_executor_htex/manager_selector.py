"""Which connected worker pools get tasks first (``HighThroughputExecutor(manager_selector=...)``).

Parsl's interface: ``sort_managers(ready_managers, manager_list)`` gets a dict of manager id
(bytes) to that manager's record (a dict with ``block_id``, ``worker_count``,
``max_capacity``, ``tasks``, ``active``, ``draining``, ...) and the set of ids with free
capacity, and returns those ids as a list whose **last** element is served first (Parsl's
interchange pops from the end).

Our interchange instead calls ``sort_managers(records)`` with its own record objects and
expects them back in service order. The builtin selectors answer both calls; a subclass that
implements only Parsl's two-argument form is adapted automatically (see ``__init_subclass__``).
"""

from __future__ import annotations

import functools
import random
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

__all__ = ["BlockIdManagerSelector", "ManagerSelector", "RandomManagerSelector"]

_RECORDS_AWARE = "_parsl_htex_records_aware"


def _records_aware(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a ``sort_managers`` that handles the one-argument (interchange records) call itself."""
    setattr(fn, _RECORDS_AWARE, True)
    return fn


def _record_view(rec: Any) -> dict[str, Any]:
    """A Parsl-style manager record (a dict) describing one of our interchange's records."""
    info = getattr(rec, "info", {}) or {}
    block_id = getattr(rec, "block_id", None)
    return {
        "block_id": None if block_id in (None, "None") else block_id,
        "worker_count": getattr(rec, "worker_count", 0),
        "max_capacity": getattr(rec, "capacity", 0),
        "tasks": list(getattr(rec, "tasks", ())),
        "active": getattr(rec, "active", True),
        "draining": getattr(rec, "draining", False),
        "hostname": getattr(rec, "hostname", None),
        "idle_since": getattr(rec, "idle_since", None),
        "start_time": getattr(rec, "registered", None),
        "parsl_version": info.get("version"),
        "python_version": info.get("python"),
    }


def _adapt(parsl_style: Callable[..., list[bytes]]) -> Callable[..., Any]:
    """Let a Parsl-style ``sort_managers(ready_managers, manager_list)`` answer the interchange."""

    @functools.wraps(parsl_style)
    def sort_managers(
        self: ManagerSelector, ready_managers: Any, manager_list: AbstractSet[bytes] | None = None
    ) -> Any:
        if manager_list is not None:
            return parsl_style(self, ready_managers, manager_list)
        by_id = {rec.ident: rec for rec in ready_managers}
        ordered = parsl_style(self, {i: _record_view(rec) for i, rec in by_id.items()}, set(by_id))
        return [by_id[i] for i in reversed(list(ordered)) if i in by_id]

    setattr(sort_managers, _RECORDS_AWARE, True)
    return sort_managers


def _block_key(block_id: Any) -> tuple[int, int, str]:
    # None first, then block ids as numbers ("10" after "9"), then any other names
    if block_id is None or block_id == "None":
        return (0, 0, "")
    text = str(block_id)
    return (1, int(text), "") if text.isdigit() else (2, 0, text)


class ManagerSelector(metaclass=ABCMeta):
    """Decides the order in which managers with free capacity get tasks.

    Subclass it and implement Parsl's ``sort_managers(ready_managers, manager_list)``. A
    selector must be picklable: it runs in the interchange process.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("sort_managers")
        if (
            own is not None
            and not getattr(own, "__isabstractmethod__", False)
            and not getattr(own, _RECORDS_AWARE, False)
        ):
            cls.sort_managers = _adapt(own)  # type: ignore[method-assign]

    @abstractmethod
    def sort_managers(
        self, ready_managers: Mapping[bytes, Mapping[str, Any]], manager_list: AbstractSet[bytes]
    ) -> list[bytes]:
        """Order ``manager_list``; the last id returned is the first to get tasks."""


class RandomManagerSelector(ManagerSelector):
    """Shuffle the managers so work spreads over every block (Parsl's default)."""

    @_records_aware
    def sort_managers(self, ready_managers: Any, manager_list: AbstractSet[bytes] | None = None) -> list[Any]:
        managers = list(ready_managers if manager_list is None else manager_list)
        if len(managers) > 1:
            random.shuffle(managers)
        return managers


class BlockIdManagerSelector(ManagerSelector):
    """Fill the managers of the highest block id first, so lower blocks go idle and scale in."""

    @_records_aware
    def sort_managers(self, ready_managers: Any, manager_list: AbstractSet[bytes] | None = None) -> list[Any]:
        if manager_list is None:  # the interchange's records, highest block first
            records: Sequence[Any] = ready_managers
            return sorted(records, key=lambda rec: _block_key(rec.block_id), reverse=True)
        return sorted(manager_list, key=lambda m: _block_key(ready_managers[m]["block_id"]))
