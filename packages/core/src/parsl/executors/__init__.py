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


def __getattr__(name: str) -> Any:
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
