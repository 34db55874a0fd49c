"""Which connected worker pools get tasks first (``HighThroughputExecutor(manager_selector=...)``)."""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

__all__ = ["BlockIdManagerSelector", "ManagerSelector", "RandomManagerSelector"]


class ManagerSelector:
    """Order the managers that have free capacity; the interchange fills them in that order.

    Each manager is the interchange's record with at least ``block_id``, ``free`` (free
    slots) and ``worker_count``. A selector must be picklable: it runs in the interchange.
    """

    def sort_managers(self, ready_managers: Sequence[Any]) -> list[Any]:
        return list(ready_managers)


class RandomManagerSelector(ManagerSelector):
    """Shuffle the managers so work spreads over blocks (Parsl's default)."""

    def sort_managers(self, ready_managers: Sequence[Any]) -> list[Any]:
        managers = list(ready_managers)
        if len(managers) > 1:
            random.shuffle(managers)
        return managers


class BlockIdManagerSelector(ManagerSelector):
    """Fill the managers of the highest block id first, so lower blocks go idle and scale in."""

    def sort_managers(self, ready_managers: Sequence[Any]) -> list[Any]:
        def key(m: Any) -> tuple[int, str]:
            bid = str(m.block_id)
            return (int(bid) if bid.isdigit() else -1, bid)
        return sorted(ready_managers, key=key, reverse=True)
