"""``MPIExecutor``: HighThroughputExecutor in MPI mode, with Parsl's simpler parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parsl_executor_htex.executor import HighThroughputExecutor
from parsl_executor_htex.mpi import check_launcher, validate_resource_spec

__all__ = ["MPIExecutor"]


class MPIExecutor(HighThroughputExecutor):
    """Run multi-node (MPI) tasks: one worker pool per block, on the block's first node, lends
    the block's nodes to tasks.

    The provider must use ``SimpleLauncher`` (one pool per block, whatever ``nodes_per_block``).
    ``max_workers_per_block`` (default 1) is how many MPI tasks a block runs at once; each task
    says what it needs with ``parsl_resource_specification={'num_nodes': N, 'ranks_per_node':
    R}`` and starts its program with ``$PARSL_MPI_PREFIX``. ``mpi_launcher`` is ``mpiexec``
    (default), ``srun`` or ``aprun``. Other parameters are HighThroughputExecutor's; encryption
    is off by default, as in Parsl.

    Parameters are HighThroughputExecutor's (``label``, ``provider``, ``launch_cmd``,
    ``address``, ``worker_port``, ``heartbeat_period``, ``encrypted``...) but for the per-worker
    sizing ones (``cores_per_worker``, ``mem_per_worker``, ``max_workers_per_node``,
    accelerators, ``cpu_affinity``, ``manager_selector``), which ``max_workers_per_block``
    replaces.
    """

    PLUGIN_NAME = "mpi"
    #: the dotted name Parsl users know this class by (the kernel logs it when starting one)
    PARSL_PUBLIC_PATH = "parsl.executors.high_throughput.mpi_executor.MPIExecutor"

    def __init__(
        self,
        label: str = "MPIExecutor",
        provider: Any = None,
        launch_cmd: str | None = None,
        interchange_launch_cmd: Any = None,
        address: str | None = None,
        loopback_address: str = "127.0.0.1",
        worker_port: int | None = None,
        worker_port_range: tuple[int, int] | None = (54000, 55000),
        interchange_port_range: tuple[int, int] | None = (55000, 56000),
        storage_access: list[Any] | None = None,
        working_dir: str | None = None,
        worker_debug: bool = False,
        max_workers_per_block: int = 1,
        prefetch_capacity: int = 0,
        heartbeat_threshold: int = 120,
        heartbeat_period: int = 30,
        drain_period: int | None = None,
        poll_period: int = 10,
        address_probe_timeout: int | None = None,
        worker_logdir_root: str | None = None,
        mpi_launcher: str = "mpiexec",
        block_error_handler: bool | Callable[..., None] = True,
        encrypted: bool = False,
        remote_monitoring_radio: Any = None,
    ):
        check_launcher(mpi_launcher)
        super().__init__(
            label=label,
            provider=provider,
            launch_cmd=launch_cmd,
            interchange_launch_cmd=interchange_launch_cmd,
            address=address,
            loopback_address=loopback_address,
            worker_port=worker_port,
            worker_port_range=worker_port_range,
            interchange_port_range=interchange_port_range,
            storage_access=storage_access,
            working_dir=working_dir,
            worker_debug=worker_debug,
            prefetch_capacity=prefetch_capacity,
            heartbeat_threshold=heartbeat_threshold,
            heartbeat_period=heartbeat_period,
            drain_period=drain_period,
            poll_period=poll_period,
            address_probe_timeout=address_probe_timeout,
            worker_logdir_root=worker_logdir_root,
            block_error_handler=block_error_handler,
            encrypted=encrypted,
            # as many workers as tasks allowed at once, whatever the lead node's core count
            cores_per_worker=1e-9,
            max_workers_per_node=max_workers_per_block,
            enable_mpi_mode=True,
            mpi_launcher=mpi_launcher,
            remote_monitoring_radio=remote_monitoring_radio,
        )
        self.max_workers_per_block = max_workers_per_block
        from parsl.launchers import SimpleLauncher

        if not isinstance(getattr(self.provider, "launcher", None), SimpleLauncher):
            raise TypeError(
                f"MPIExecutor needs a provider whose launcher is SimpleLauncher (one worker pool "
                f"per block); {type(self.provider).__name__} has "
                f"{type(getattr(self.provider, 'launcher', None)).__name__}: pass "
                f"launcher=SimpleLauncher() to the provider"
            )

    def validate_resource_spec(self, resource_specification: dict[str, Any]) -> dict[str, Any]:
        """Check a task's resource specification (Parsl's method); return it completed."""
        return validate_resource_spec(resource_specification)

    def monitor_resources(self) -> bool:
        """A task's processes are spread over several nodes: per-process monitoring means little."""
        return False
