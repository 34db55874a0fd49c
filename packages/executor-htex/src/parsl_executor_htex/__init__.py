"""parsl-executor-htex: Parsl's HighThroughputExecutor for parslcore.

``from parsl.executors import HighThroughputExecutor`` resolves here when this package is
installed (``pip install 'parslcore[htex]'``).
"""

from __future__ import annotations

__version__ = "2026.11.21"

from typing import Any

# Names resolve on first use (PEP 562): the interchange, pools and workers import submodules
# of this package and should not pay for the executor (and the whole parsl kernel) at startup.
_WHERE = {
    "CommandClientBadError": "errors",
    "CommandClientTimeoutError": "errors",
    "InterchangeLost": "errors",
    "ManagerLost": "errors",
    "VersionMismatch": "errors",
    "WorkerLost": "errors",
    "HighThroughputExecutor": "executor",
    "BlockIdManagerSelector": "manager_selector",
    "ManagerSelector": "manager_selector",
    "RandomManagerSelector": "manager_selector",
    "MPIExecutor": "mpi_executor",
    "MPINodesUnavailable": "mpi",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BlockIdManagerSelector",
    "CommandClientBadError",
    "CommandClientTimeoutError",
    "HighThroughputExecutor",
    "InterchangeLost",
    "MPIExecutor",
    "MPINodesUnavailable",
    "ManagerLost",
    "ManagerSelector",
    "RandomManagerSelector",
    "VersionMismatch",
    "WorkerLost",
    "__version__",
]
