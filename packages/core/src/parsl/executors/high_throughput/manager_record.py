"""``parsl.executors.high_throughput.manager_record`` (parsl-executor-htex): the type manager
selectors annotate worker pool records with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import OptionalName, lazy_module_getattr

if TYPE_CHECKING:  # what the lazy name resolves to, for type checkers
    from parsl_executor_htex.manager_record import ManagerRecord

__all__ = ["ManagerRecord"]

__getattr__ = lazy_module_getattr(
    __name__,
    {
        name: OptionalName("parsl_executor_htex.manager_record", name, "htex", "parsl-executor-htex")
        for name in __all__
    },
)
