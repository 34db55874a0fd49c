"""``ResourceConfig``: the RAPTOR layout Parsl's RadicalPilotExecutor asks RADICAL-Pilot for."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

__all__ = ["ResourceConfig"]

MPI = "mpi"
RP_ENV = "rp"
CLIENT = "client"
RPEX_ENV = "ve_rpex"
MPI_WORKER = "MPIWorker"
DEFAULT_WORKER = "DefaultWorker"


class ResourceConfig:
    """Masters, workers and their sizes, and the pilot's Python environment (class defaults
    overridable per instance). Only RadicalPilotExecutor reads it, and parslcore does not ship
    that executor, so ``get_config`` raises the executor's error."""

    masters: int = 1
    workers: int = 1
    worker_gpus_per_node: int = 0
    worker_cores_per_node: int = 4
    cores_per_master: int = 1
    nodes_per_worker: int = 1
    pilot_env_mode: str = CLIENT
    pilot_env_path: str = ""
    pilot_env_type: str = "venv"
    pilot_env_name: str = RP_ENV
    # class-level lists, as in Parsl (get_config reads and may extend the class's own)
    pilot_env_pre_exec: ClassVar[list[str]] = []
    pilot_env_setup: ClassVar[list[str]] = []
    python_v: str = f"{sys.version_info[0]}.{sys.version_info[1]}"
    worker_type: str = DEFAULT_WORKER

    def get_config(self, path: str | None = None) -> Any:
        from parsl.executors.radical.executor import RadicalPilotExecutor

        RadicalPilotExecutor._not_shipped()
