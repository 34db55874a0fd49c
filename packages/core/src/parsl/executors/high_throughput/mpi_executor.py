"""``parsl.executors.high_throughput.mpi_executor.MPIExecutor`` (parsl-executor-htex)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import OptionalName, lazy_module_getattr

if TYPE_CHECKING:  # what the lazy name resolves to, for type checkers
    from parsl_executor_htex.mpi_executor import MPIExecutor

__all__ = ["MPIExecutor"]

__getattr__ = lazy_module_getattr(
    __name__,
    {
        "MPIExecutor": OptionalName(
            "parsl_executor_htex.mpi_executor", "MPIExecutor", "htex", "parsl-executor-htex"
        )
    },
)
