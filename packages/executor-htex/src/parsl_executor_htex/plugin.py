"""Hook implementations registering the HighThroughputExecutor and the MPIExecutor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl import hookimpl

if TYPE_CHECKING:
    from parsl.executors.base import ParslExecutor


@hookimpl
def parsl_register_executors() -> list[type[ParslExecutor]]:
    from parsl_executor_htex.executor import HighThroughputExecutor
    from parsl_executor_htex.mpi_executor import MPIExecutor

    return [HighThroughputExecutor, MPIExecutor]
