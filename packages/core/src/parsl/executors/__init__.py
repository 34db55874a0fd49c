"""Executors: where tasks run. ``ThreadPoolExecutor`` is builtin; others come from plugins.

Names resolve on first use: HighThroughputExecutor and MPIExecutor from parsl-executor-htex,
GlobusComputeExecutor from parsl-executor-globus-compute (each missing package raises the
``pip install`` line to run), Parsl's WorkQueue/TaskVine/Flux/RADICAL-Pilot executors from
their own modules here (they import, and building one says parslcore does not ship it), and
any other name from the executors that installed plugins register.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from parsl._lazy import OptionalName, htex, load_optional
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor

if TYPE_CHECKING:  # the classes the names below resolve to, for type checkers
    from parsl.executors.flux.executor import FluxExecutor as FluxExecutor
    from parsl.executors.radical.executor import RadicalPilotExecutor as RadicalPilotExecutor
    from parsl.executors.taskvine.executor import TaskVineExecutor as TaskVineExecutor
    from parsl.executors.workqueue.executor import WorkQueueExecutor as WorkQueueExecutor
    from parsl_executor_globus_compute.executor import GlobusComputeExecutor as GlobusComputeExecutor
    from parsl_executor_htex.executor import HighThroughputExecutor as HighThroughputExecutor
    from parsl_executor_htex.mpi_executor import MPIExecutor as MPIExecutor

__all__ = [
    "FluxExecutor",
    "HighThroughputExecutor",
    "MPIExecutor",
    "ParslExecutor",
    "ThreadPoolExecutor",
    "WorkQueueExecutor",
]

#: names that live in optional sibling packages
_OPTIONAL: dict[str, OptionalName] = {
    "HighThroughputExecutor": htex("HighThroughputExecutor"),
    "MPIExecutor": htex("MPIExecutor"),
    "GlobusComputeExecutor": OptionalName(
        "parsl_executor_globus_compute",
        "GlobusComputeExecutor",
        "globus-compute",
        "parsl-executor-globus-compute",
    ),
}

#: Parsl executors parslcore does not ship, by the module that holds each one's stand-in
_NOT_SHIPPED: dict[str, str] = {
    "WorkQueueExecutor": "parsl.executors.workqueue.executor",
    "FluxExecutor": "parsl.executors.flux.executor",
    "TaskVineExecutor": "parsl.executors.taskvine.executor",
    "RadicalPilotExecutor": "parsl.executors.radical.executor",
}


def __getattr__(name: str) -> Any:
    where = _OPTIONAL.get(name)
    if where is not None:
        value = load_optional(name, where)
    elif name in _NOT_SHIPPED:
        value = getattr(importlib.import_module(_NOT_SHIPPED[name]), name)
    elif name.startswith("_"):
        raise AttributeError(f"module 'parsl.executors' has no attribute {name!r}")
    else:
        from parsl.plugins import default_plugin_manager

        value = default_plugin_manager().find_class("executors", name)
        if value is None:
            raise AttributeError(
                f"module 'parsl.executors' has no attribute {name!r} (no installed "
                f"plugin registers an executor of that name; see `python -m parsl plugins`)"
            )
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_OPTIONAL) | set(_NOT_SHIPPED))
