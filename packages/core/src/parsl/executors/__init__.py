"""Executors: where tasks run. ``ThreadPoolExecutor`` is builtin; others come from plugins."""
from __future__ import annotations

from typing import Any

from parsl._lazy import OptionalName, htex, load_optional
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor

__all__ = ["ParslExecutor", "ThreadPoolExecutor", "HighThroughputExecutor", "MPIExecutor"]

_OPTIONAL: dict[str, OptionalName] = {
    "HighThroughputExecutor": htex("HighThroughputExecutor"),
    "MPIExecutor": htex("MPIExecutor"),
}


#: Parsl executors that parslcore deliberately does not ship, and what to use instead
_NOT_PROVIDED: dict[str, str] = {
    "WorkQueueExecutor": "it drives the Work Queue system (ndcctools)",
    "TaskVineExecutor": "it drives the TaskVine system (ndcctools)",
    "FluxExecutor": "it drives the Flux resource manager",
    "GlobusComputeExecutor": "it forwards tasks to a Globus Compute endpoint",
    "RadicalPilotExecutor": "it drives RADICAL-Pilot",
}


def not_provided_error(name: str) -> ImportError:
    """The ImportError for an executor Parsl has and parslcore deliberately does not ship."""
    return ImportError(
        f"{name} is not provided by parslcore: {_NOT_PROVIDED[name]}, which is outside this "
        f"kernel's scope. Use ThreadPoolExecutor, or HighThroughputExecutor "
        f"(pip install 'parslcore[htex]') for pilot-job workers; scripts that need {name} "
        f"itself must run with upstream Parsl (pip install parsl).", name=f"parsl.executors.{name}")


def __getattr__(name: str) -> Any:
    if name in _NOT_PROVIDED:
        raise not_provided_error(name)
    where = _OPTIONAL.get(name)
    if where is not None:
        value = load_optional(name, where)
    else:
        from parsl.plugins import default_plugin_manager
        value = default_plugin_manager().executors().get(name)
        if value is None:
            raise AttributeError(f"module 'parsl.executors' has no attribute {name!r} (no installed "
                                 f"plugin registers an executor of that name; see `python -m parsl plugins`)")
    globals()[name] = value
    return value
