"""``parsl.executors.globus_compute.GlobusComputeExecutor``, provided by parsl-executor-globus-compute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import OptionalName, lazy_module_getattr

if TYPE_CHECKING:  # what the lazy name resolves to, for type checkers
    from parsl_executor_globus_compute.executor import GlobusComputeExecutor

__all__ = ["GlobusComputeExecutor"]

GLOBUS_COMPUTE = OptionalName(
    "parsl_executor_globus_compute",
    "GlobusComputeExecutor",
    "globus-compute",
    "parsl-executor-globus-compute",
)

__getattr__ = lazy_module_getattr(__name__, {"GlobusComputeExecutor": GLOBUS_COMPUTE})
