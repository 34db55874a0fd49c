"""Parsl plugin entry point (``[project.entry-points.parsl]``): hook implementations only."""

from __future__ import annotations

from parsl import hookimpl


@hookimpl
def parsl_register_executors() -> list[type]:
    from parsl_example_executor.executor import SubprocessExecutor

    return [SubprocessExecutor]
