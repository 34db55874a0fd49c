"""``parsl.executors.high_throughput.manager_selector`` (parsl-executor-htex): which worker pools
the interchange gives tasks to first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import OptionalName, lazy_module_getattr

if TYPE_CHECKING:  # what the lazy names resolve to, for type checkers
    from parsl_executor_htex.manager_selector import (
        BlockIdManagerSelector,
        ManagerSelector,
        RandomManagerSelector,
    )

__all__ = ["BlockIdManagerSelector", "ManagerSelector", "RandomManagerSelector"]

__getattr__ = lazy_module_getattr(
    __name__,
    {
        name: OptionalName("parsl_executor_htex.manager_selector", name, "htex", "parsl-executor-htex")
        for name in __all__
    },
)
