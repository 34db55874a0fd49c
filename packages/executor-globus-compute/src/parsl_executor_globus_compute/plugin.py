"""Parsl plugin entry point (``[project.entry-points.parsl]``): registers GlobusComputeExecutor."""

from __future__ import annotations

from parsl import hookimpl


@hookimpl
def parsl_register_executors() -> list[type]:
    from parsl_executor_globus_compute.executor import GlobusComputeExecutor

    return [GlobusComputeExecutor]
