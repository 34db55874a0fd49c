"""``MPIExecutor``: HighThroughputExecutor in MPI mode, with Parsl's simpler parameters."""

from __future__ import annotations

import inspect
from typing import Any

from parsl_executor_htex.executor import HighThroughputExecutor
from parsl_executor_htex.mpi import check_launcher, validate_resource_spec

__all__ = ["LAUNCHER_CORES_PER_WORKER", "MPIExecutor"]

#: ``cores_per_worker`` of an MPIExecutor's pools. A worker of an MPI task only runs the
#: launcher (``mpiexec``, ``srun``, ``aprun``) and waits; the task's ranks run on the nodes it
#: was lent. So the lead node's cores must not limit the pool: at 1e-9 cores a worker, any
#: node fits a billion workers per core, and ``max_workers_per_block`` is the only cap.
LAUNCHER_CORES_PER_WORKER = 1e-9

#: HighThroughputExecutor parameters that MPIExecutor does not take: ``max_workers_per_block``
#: sizes its pools, and its pools run one lead-node worker per MPI task
_NOT_TAKEN = frozenset(
    {
        "cores_per_worker",
        "mem_per_worker",
        "max_workers_per_node",
        "max_workers",
        "cpu_affinity",
        "available_accelerators",
        "manager_selector",
        "enable_mpi_mode",
        "worker_ports",
    }
)
#: MPIExecutor's defaults where they differ from HighThroughputExecutor's (Parsl's choices)
_DEFAULTS = {"label": "MPIExecutor", "encrypted": False}


class MPIExecutor(HighThroughputExecutor):
    """Run multi-node (MPI) tasks: one worker pool per block, on the block's first node, lends
    the block's nodes to tasks.

    The provider must use ``SimpleLauncher`` (one pool per block, whatever ``nodes_per_block``).
    ``max_workers_per_block`` (default 1) is how many MPI tasks a block runs at once; each task
    says what it needs with ``parsl_resource_specification={'num_nodes': N, 'ranks_per_node':
    R}`` and starts its program with ``$PARSL_MPI_PREFIX``. ``mpi_launcher`` is ``mpiexec``
    (default), ``srun`` or ``aprun``.

    The other parameters are HighThroughputExecutor's (``label``, ``provider``, ``address``,
    ``heartbeat_period``...), in Parsl's order, taken from its signature rather than declared
    again; the per-worker sizing ones (``cores_per_worker``, ``mem_per_worker``,
    ``max_workers_per_node``, accelerators, ``cpu_affinity``, ``manager_selector``) are left
    out, as ``max_workers_per_block`` replaces them. Encryption is off by default, as in Parsl.
    """

    PLUGIN_NAME = "mpi"
    #: the dotted name Parsl users know this class by (the kernel logs it when starting one)
    PARSL_PUBLIC_PATH = "parsl.executors.high_throughput.mpi_executor.MPIExecutor"

    def __init__(self, *args: Any, **kwargs: Any):
        # the parameters are HighThroughputExecutor's, less the ones max_workers_per_block
        # replaces (see _signature below, which inspect.signature and the repr show)
        try:
            bound = _SIGNATURE.bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError(_explain(e, kwargs)) from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        del values["self"]
        max_workers_per_block = values.pop("max_workers_per_block")
        check_launcher(values["mpi_launcher"])
        super().__init__(
            **values,
            cores_per_worker=LAUNCHER_CORES_PER_WORKER,
            max_workers_per_node=max_workers_per_block,
            enable_mpi_mode=True,
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


def _signature() -> inspect.Signature:
    """HighThroughputExecutor's ``__init__`` signature, less ``_NOT_TAKEN``, with
    ``max_workers_per_block`` and ``mpi_launcher`` where Parsl's MPIExecutor has them (so
    positional arguments mean what they mean in Parsl)."""
    htex = inspect.signature(HighThroughputExecutor.__init__).parameters
    per_block = inspect.Parameter(
        "max_workers_per_block", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=1, annotation="int"
    )
    after = {"worker_debug": per_block, "worker_logdir_root": htex["mpi_launcher"]}
    params = []
    for p in htex.values():
        if p.name in _NOT_TAKEN or p.name == "mpi_launcher":
            continue
        params.append(p.replace(default=_DEFAULTS[p.name]) if p.name in _DEFAULTS else p)
        if p.name in after:
            params.append(after[p.name])
    return inspect.signature(HighThroughputExecutor.__init__).replace(parameters=params)


def _explain(error: TypeError, kwargs: dict[str, Any]) -> str:
    """The binding error, naming the fix when a HighThroughputExecutor-only parameter was passed."""
    taken = sorted(_NOT_TAKEN & kwargs.keys())
    if taken:
        return (
            f"MPIExecutor does not take {', '.join(taken)}: its pools run one worker per MPI task, "
            f"sized by max_workers_per_block; for per-worker sizing use "
            f"HighThroughputExecutor(enable_mpi_mode=True, ...)"
        )
    return f"MPIExecutor: {error}"


_SIGNATURE = _signature()
MPIExecutor.__init__.__signature__ = _SIGNATURE  # type: ignore[attr-defined]
