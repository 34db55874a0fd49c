"""MPI mode: a worker pool owns its whole batch job and lends its nodes to multi-node tasks.

With ``enable_mpi_mode`` (or ``MPIExecutor``) a task's ``parsl_resource_specification``
says how many nodes and ranks it needs (``num_nodes``, ``ranks_per_node``, ``num_ranks``,
``launcher_options``). The executor wraps the task's payload in an :class:`MPITask`; the pool
(one per block, on the job's lead node) finds the job's nodes (``SLURM_NODELIST``, else
``PBS_NODEFILE``, else this host) and gives each task the nodes it asks for, which no other
task gets until it finishes (:class:`NodeScheduler`). A task asking for more nodes than the
block has fails at once with :class:`MPINodesUnavailable`. The worker runs the task with
``PARSL_MPI_PREFIX`` (and the per-launcher ``PARSL_MPIEXEC_PREFIX``, ``PARSL_SRUN_PREFIX``,
``PARSL_APRUN_PREFIX``), ``PARSL_NUM_NODES``, ``PARSL_RANKS_PER_NODE``, ``PARSL_NUM_RANKS``,
``PARSL_MPI_NODELIST`` and ``PARSL_NODEFILE`` set, so a bash app runs
``$PARSL_MPI_PREFIX my_mpi_program``.

This module is imported by the interchange, the pools and the workers (to unpickle
:class:`MPITask`): it must not import parsl or ZeroMQ at module level.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import tempfile
import time
from collections import deque
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "LEGAL_KEYS",
    "VALID_LAUNCHERS",
    "MPINodesUnavailable",
    "MPITask",
    "NodeScheduler",
    "check_launcher",
    "compose_prefixes",
    "discover_nodes",
    "expand_hostlist",
    "mpiexec_flavor",
    "restore",
    "run_with_environment",
    "task_environment",
    "validate_resource_spec",
]

VALID_LAUNCHERS = ("srun", "aprun", "mpiexec")
LEGAL_KEYS = frozenset({"num_nodes", "ranks_per_node", "num_ranks", "launcher_options"})


class MPINodesUnavailable(Exception):
    """A task asks for more nodes than its block has."""

    def __init__(self, requested: int, available: int, nodes: list[str] | None = None):
        super().__init__(requested, available, nodes)
        self.requested = requested
        self.available = available
        self.nodes = list(nodes or [])

    def __str__(self) -> str:
        listed = f" ({','.join(self.nodes)})" if self.nodes else ""
        return (
            f"MPINodesUnavailable(requested={self.requested} available={self.available}): the task asks for "
            f"num_nodes={self.requested} but its block has {self.available} node(s){listed}; ask for at most "
            f"{self.available}, or give the provider a larger nodes_per_block"
        )


class MPITask:
    """A task's payload and its validated MPI resource specification (and, once the pool has
    placed it, the environment the worker runs it with)."""

    __slots__ = ("env", "payload", "spec")

    def __init__(self, spec: dict[str, Any], payload: Any, env: dict[str, str] | None = None):
        self.spec = spec
        self.payload = payload
        self.env = env

    def __reduce__(self) -> Any:
        return MPITask, (self.spec, self.payload, self.env)


def check_launcher(mpi_launcher: str) -> None:
    if mpi_launcher not in VALID_LAUNCHERS:
        raise ValueError(f"mpi_launcher={mpi_launcher!r}: use one of {', '.join(VALID_LAUNCHERS)}")


def _positive_int(key: str, value: Any) -> int:
    from parsl.executors.errors import InvalidResourceSpecification

    try:
        n = int(value)
        if n != float(value) or n < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidResourceSpecification(
            {key}, f"{key}={value!r} must be a positive whole number"
        ) from None
    return n


def validate_resource_spec(resource_spec: dict[str, Any] | None) -> dict[str, Any]:
    """Check an MPI-mode resource specification; return it completed (num_nodes defaults to 1;
    ranks_per_node and num_ranks are derived from each other).

    Raises Parsl's ``InvalidResourceSpecification`` for an empty specification (as Parsl does),
    unknown keys or numbers that do not fit together.
    """
    from parsl.executors.errors import InvalidResourceSpecification

    if not resource_spec:
        raise InvalidResourceSpecification(
            set(),
            "MPI mode needs parsl_resource_specification={'num_nodes': N, "
            "'ranks_per_node': R} (or 'num_ranks') on every task",
        )
    unknown = set(resource_spec) - LEGAL_KEYS
    if unknown:
        raise InvalidResourceSpecification(
            unknown, f"MPI mode accepts only the keys {', '.join(sorted(LEGAL_KEYS))}"
        )
    nodes = _positive_int("num_nodes", resource_spec.get("num_nodes", 1))
    rpn = resource_spec.get("ranks_per_node")
    ranks = resource_spec.get("num_ranks")
    if rpn is not None:
        rpn = _positive_int("ranks_per_node", rpn)
    if ranks is not None:
        ranks = _positive_int("num_ranks", ranks)
    if rpn is None:
        rpn = math.ceil(ranks / nodes) if ranks is not None else 1
    if ranks is None:
        ranks = nodes * rpn
    if ranks > nodes * rpn:
        raise InvalidResourceSpecification(
            {"num_ranks"}, f"num_ranks={ranks} does not fit on num_nodes={nodes} with ranks_per_node={rpn}"
        )
    spec = {"num_nodes": nodes, "ranks_per_node": rpn, "num_ranks": ranks}
    options = resource_spec.get("launcher_options")
    if options:
        spec["launcher_options"] = str(options)
    return spec


# ------------------------------------------------------------------------- node discovery
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _split_top(text: str) -> list[str]:
    """Split at commas that are not inside brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise ValueError(f"unbalanced brackets in host list {text!r}")
    parts.append("".join(cur))
    return [p for p in parts if p]


def _expand_one(pattern: str) -> list[str]:
    start = pattern.find("[")
    if start < 0:
        return [pattern]
    end = pattern.index("]", start)
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    out: list[str] = []
    for item in body.split(","):
        match = _RANGE.match(item.strip())
        if match is None:
            raise ValueError(f"bad range {item!r} in host list {pattern!r}")
        lo, hi = match.group(1), match.group(2) or match.group(1)
        width = len(lo) if lo.startswith("0") else 0
        if int(hi) < int(lo):
            raise ValueError(f"descending range {item!r} in host list {pattern!r}")
        for n in range(int(lo), int(hi) + 1):
            out.extend(f"{head}{n:0{width}d}{rest}" for rest in _expand_one(tail))
    return out


def expand_hostlist(hostlist: str) -> list[str]:
    """Expand a Slurm host list (``n[1-3],gpu[01-02,07],login1``) into host names, in order."""
    hosts: list[str] = []
    for part in _split_top(hostlist.strip()):
        hosts.extend(_expand_one(part))
    return hosts


def discover_nodes(environ: dict[str, str] | None = None) -> tuple[list[str], str]:
    """This batch job's nodes and where they came from: Slurm's node list, PBS's node file
    (each node once, in order), or this host alone."""
    env = os.environ if environ is None else environ
    slurm = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
    if slurm:
        return expand_hostlist(slurm), "SLURM_NODELIST"
    nodefile = env.get("PBS_NODEFILE")
    if nodefile:
        with open(nodefile) as f:
            nodes = list(dict.fromkeys(line.strip() for line in f if line.strip()))
        return nodes, "PBS_NODEFILE"
    return ["localhost"], "localhost"


def mpiexec_flavor(command: str = "mpiexec") -> str:
    """``openmpi`` or ``mpich`` (Hydra, Parsl's assumed syntax), from ``mpiexec --version``."""
    try:
        out = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=20)
        text = out.stdout + out.stderr
    except (OSError, subprocess.SubprocessError):
        return "mpich"
    return "openmpi" if ("Open MPI" in text or "OpenRTE" in text) else "mpich"


def compose_prefixes(
    mpi_launcher: str, spec: dict[str, Any], nodes: list[str], flavor: str = "mpich"
) -> dict[str, str]:
    """The launch prefixes for a task placed on ``nodes``; ``PARSL_MPI_PREFIX`` is the chosen one."""
    ranks, rpn = spec["num_ranks"], spec["ranks_per_node"]
    extra = spec.get("launcher_options", "")
    hosts = ",".join(nodes)
    if flavor == "openmpi":
        mpiexec = f"mpiexec -n {ranks} --map-by ppr:{rpn}:node --host {','.join(f'{n}:{rpn}' for n in nodes)}"
    else:
        mpiexec = f"mpiexec -n {ranks} -ppn {rpn} -hosts {hosts}"
    prefixes = {
        "PARSL_MPIEXEC_PREFIX": mpiexec,
        "PARSL_SRUN_PREFIX": f"srun --ntasks {ranks} --ntasks-per-node {rpn} --nodelist {hosts} --nodes {len(nodes)}",
        "PARSL_APRUN_PREFIX": f"aprun -n {ranks} -N {rpn} -node-list {hosts}",
    }
    if extra:
        prefixes = {k: f"{v} {extra}" for k, v in prefixes.items()}
    prefixes["PARSL_MPI_PREFIX"] = prefixes[f"PARSL_{mpi_launcher.upper()}_PREFIX"]
    return prefixes


def task_environment(
    mpi_launcher: str, spec: dict[str, Any], nodes: list[str], nodefile: str, flavor: str = "mpich"
) -> dict[str, str]:
    """Every variable a task placed on ``nodes`` runs with."""
    env = {f"PARSL_{k.upper()}": str(v) for k, v in spec.items()}
    env.update(PARSL_MPI_NODELIST=",".join(nodes), PARSL_NODEFILE=nodefile)
    env.update(compose_prefixes(mpi_launcher, spec, nodes, flavor))
    return env


# ----------------------------------------------------------------------- the pool's side
class NodeScheduler:
    """Lends the block's nodes to MPI tasks, each node to one task at a time.

    The pool calls :meth:`assign` instead of its own assignment when MPI mode is on, and
    :meth:`release` when a task's result (or its worker's death) comes back.
    """

    def __init__(self, mpi_launcher: str, nodes: list[str] | None = None, workdir: str | None = None):
        check_launcher(mpi_launcher)
        self.mpi_launcher = mpi_launcher
        if nodes is None:
            nodes, source = discover_nodes()
        else:
            source = "given"
        self.nodes = list(nodes)
        self.free: deque[str] = deque(self.nodes)
        self.held: dict[int, list[str]] = {}
        self.nodefiles: dict[int, str] = {}
        self.workdir = workdir or tempfile.mkdtemp(prefix="parsl-mpi-")
        os.makedirs(self.workdir, exist_ok=True)
        self.flavor = mpiexec_flavor() if mpi_launcher == "mpiexec" else "mpich"
        logger.info(
            "MPI mode: %d node(s) from %s: %s; launcher %s (%s)",
            len(self.nodes),
            source,
            ",".join(self.nodes),
            mpi_launcher,
            self.flavor,
        )

    def place(self, tid: int, spec: dict[str, Any]) -> dict[str, str] | None:
        """Take nodes for task ``tid``; return its environment, or None if they are not free now.
        Raises MPINodesUnavailable if the block can never hold the task."""
        need = int(spec.get("num_nodes", 1))
        if need > len(self.nodes):
            raise MPINodesUnavailable(need, len(self.nodes), self.nodes)
        if need > len(self.free):
            return None
        taken = [self.free.popleft() for _ in range(need)]
        self.held[tid] = taken
        path = os.path.join(self.workdir, f"nodefile.{tid}")
        with open(path, "w") as f:
            f.write("".join(f"{n}\n" for n in taken))
        self.nodefiles[tid] = path
        return task_environment(self.mpi_launcher, spec, taken, path, self.flavor)

    def release(self, tid: int) -> None:
        """Give task ``tid``'s nodes back."""
        taken = self.held.pop(tid, None)
        if taken:
            self.free.extend(taken)
        path = self.nodefiles.pop(tid, None)
        if path:
            try:
                os.unlink(path)
            except OSError as e:
                logger.debug("Could not remove task %d's node file %s: %s", tid, path, e)

    def assign(self, manager: Any) -> None:
        """Hand queued tasks to idle workers, each MPI task once its nodes are free.

        Tasks that must wait keep their order; a smaller task behind them may start first.
        """
        from parsl_executor_htex import messages as m
        from parsl_executor_htex.serialize import pack_exception

        queue, idle = manager.queue, manager.idle
        waiting: list[Any] = []
        while queue and idle:
            tid, fid, payload = queue.popleft()
            if type(payload) is MPITask:
                try:
                    env = self.place(tid, payload.spec)
                except MPINodesUnavailable as e:
                    manager.results_tids.append(tid)
                    manager.results.append(pack_exception(e, f"worker pool on {manager.hostname}"))
                    continue
                if env is None:
                    waiting.append((tid, fid, payload))
                    if not self.free:
                        break
                    continue
                payload = MPITask(payload.spec, payload.payload, env)
            w = idle.popleft()
            if fid in w.fids:
                fbytes = None
            else:
                fbytes = manager.functions[fid]
                w.fids.add(fid)
            w.task = tid
            w.task_started = time.monotonic()
            manager._write(w, m.encode(m.TASKS, (tid, fid, fbytes, payload)))
        queue.extendleft(reversed(waiting))


def run_with_environment(env: dict[str, str] | None) -> dict[str, str | None]:
    """Set ``env`` in this process; return what to restore afterwards (see :func:`restore`)."""
    if not env:
        return {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    return saved


def restore(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
