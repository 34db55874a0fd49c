"""A manager selector for test_manager_selector.py, in a module of its own so the interchange
process can import it by name (a test module's importlib name is not importable there)."""

from __future__ import annotations

from parsl.executors.high_throughput.manager_selector import ManagerSelector


class LowestBlockFirst(ManagerSelector):
    """Written as for Parsl: dict records, a set of ids, the last id returned is served first."""

    def sort_managers(self, ready_managers, manager_list):
        return sorted(manager_list, key=lambda m: int(ready_managers[m]["block_id"]), reverse=True)
