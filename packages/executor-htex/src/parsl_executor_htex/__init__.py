"""parsl-executor-htex: Parsl's HighThroughputExecutor for parslcore.

``from parsl.executors import HighThroughputExecutor`` resolves here when this package is
installed (``pip install 'parslcore[htex]'``).
"""
from __future__ import annotations

__version__ = "2026.11.21"

from parsl_executor_htex.errors import (
    CommandClientBadError,
    CommandClientTimeoutError,
    ManagerLost,
    VersionMismatch,
    WorkerLost,
)
from parsl_executor_htex.executor import HighThroughputExecutor
from parsl_executor_htex.manager_selector import (
    BlockIdManagerSelector,
    ManagerSelector,
    RandomManagerSelector,
)

__all__ = [
    "BlockIdManagerSelector",
    "CommandClientBadError",
    "CommandClientTimeoutError",
    "HighThroughputExecutor",
    "ManagerLost",
    "ManagerSelector",
    "RandomManagerSelector",
    "VersionMismatch",
    "WorkerLost",
    "__version__",
]
