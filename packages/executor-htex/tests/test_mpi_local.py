"""MPI mode for real on this host: an MPIExecutor block whose only node is localhost (no batch
job), a real interchange, pool and workers. The pool must lend the node to one task at a time."""

from __future__ import annotations

import itertools
import os
import shutil
import time

import pytest

import parsl
from parsl.config import Config
from parsl.executors.errors import InvalidResourceSpecification
from parsl.launchers import SimpleLauncher
from parsl.providers import LocalProvider

MPI_VARS = (
    "PARSL_MPI_PREFIX",
    "PARSL_MPIEXEC_PREFIX",
    "PARSL_SRUN_PREFIX",
    "PARSL_NUM_NODES",
    "PARSL_NODEFILE",
    "PARSL_NUM_RANKS",
    "PARSL_RANKS_PER_NODE",
    "PARSL_MPI_NODELIST",
)


@parsl.python_app
def mpi_env(sleep: float = 0.0, parsl_resource_specification=None):
    import os
    import time

    start = time.time()
    time.sleep(sleep)
    env = {k: v for k, v in os.environ.items() if k.startswith("PARSL_")}
    with open(env["PARSL_NODEFILE"]) as f:
        env["nodefile"] = f.read()
    return start, time.time(), env


@parsl.python_app
def leftover_env(parsl_resource_specification=None):
    import os

    return os.environ.get("PARSL_MPI_NODELIST")


@parsl.bash_app
def run_mpi(stdout=None, stderr=None, parsl_resource_specification=None):
    # OpenMPI refuses root unless told; tests run as root here and in CI
    return (
        "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; "
        "$PARSL_MPI_PREFIX --oversubscribe /bin/echo rank-says-hello"
    )


@pytest.fixture(scope="module", params=["MPIExecutor", "htex_enable_mpi_mode"])
def mpi_dfk(request, tmp_path_factory):
    from parsl_executor_htex import HighThroughputExecutor, MPIExecutor

    run_dir = str(tmp_path_factory.mktemp("mpi") / "runinfo")
    provider = LocalProvider(launcher=SimpleLauncher(), init_blocks=1, max_blocks=1)
    if request.param == "MPIExecutor":
        ex = MPIExecutor(
            label="mpi", provider=provider, max_workers_per_block=2, heartbeat_period=1, heartbeat_threshold=5
        )
    else:
        ex = HighThroughputExecutor(
            label="mpi",
            provider=provider,
            max_workers_per_node=2,
            encrypted=True,
            enable_mpi_mode=True,
            mpi_launcher="mpiexec",
            heartbeat_period=1,
            heartbeat_threshold=5,
        )
    dfk = parsl.load(Config(executors=[ex], run_dir=run_dir, strategy="none"))
    yield dfk
    dfk.cleanup()


def test_mpi_task_sees_its_node_and_prefixes(mpi_dfk):
    _, _, env = mpi_env(parsl_resource_specification={"num_nodes": 1, "ranks_per_node": 3}).result(timeout=60)
    assert set(MPI_VARS) <= set(env)
    assert (
        env["PARSL_NUM_NODES"] == "1" and env["PARSL_RANKS_PER_NODE"] == "3" and env["PARSL_NUM_RANKS"] == "3"
    )
    assert env["PARSL_MPI_NODELIST"] == "localhost" and env["nodefile"] == "localhost\n"
    assert env["PARSL_SRUN_PREFIX"] == "srun --ntasks 3 --ntasks-per-node 3 --nodelist localhost --nodes 1"
    assert env["PARSL_MPI_PREFIX"] == env["PARSL_MPIEXEC_PREFIX"]
    assert env["PARSL_MPI_PREFIX"].startswith("mpiexec -n 3 ")
    # the variables belong to that task only: the worker's environment is restored afterwards
    assert not os.path.exists(env["PARSL_NODEFILE"])


def test_mpi_tasks_never_share_a_node(mpi_dfk):
    """Two workers, one node: the second task waits until the first gives the node back."""
    futs = [mpi_env(0.7, parsl_resource_specification={"num_nodes": 1}) for _ in range(3)]
    spans = sorted((s, e) for s, e, _ in (f.result(timeout=60) for f in futs))
    for (_, end1), (start2, _) in itertools.pairwise(spans):
        assert start2 >= end1, f"tasks overlapped on the one node: {spans}"


def test_mpi_task_asking_too_many_nodes_fails_clearly(mpi_dfk):
    from parsl_executor_htex import MPINodesUnavailable

    fut = mpi_env(parsl_resource_specification={"num_nodes": 2, "ranks_per_node": 1})
    with pytest.raises(MPINodesUnavailable, match="num_nodes=2 but its block has 1 node"):
        fut.result(timeout=60)
    # the block still works afterwards
    assert (
        mpi_env(parsl_resource_specification={"num_nodes": 1}).result(timeout=60)[2]["PARSL_NUM_NODES"] == "1"
    )


def test_mpi_spec_checked_at_submit(mpi_dfk):
    with pytest.raises(InvalidResourceSpecification):
        mpi_env(parsl_resource_specification={"num_nodes": 1, "gpus": 2}).result(timeout=60)
    with pytest.raises(InvalidResourceSpecification):
        mpi_env().result(timeout=60)


@pytest.mark.skipif(
    shutil.which("mpiexec") is None and not os.environ.get("CI"),
    reason="no mpiexec (apt-get install openmpi-bin; .ci/setup.d/30-mpi.sh does)",
)
def test_bash_app_runs_mpiexec_through_the_prefix(mpi_dfk, tmp_path, monkeypatch):
    assert shutil.which("mpiexec"), "mpiexec missing: .ci/setup.d/30-mpi.sh installs OpenMPI"
    out = tmp_path / "out.txt"
    t0 = time.monotonic()
    run_mpi(
        stdout=str(out),
        stderr=str(tmp_path / "err.txt"),
        parsl_resource_specification={"num_nodes": 1, "ranks_per_node": 3},
    ).result(timeout=120)
    assert out.read_text().splitlines().count("rank-says-hello") == 3, (
        out.read_text(),
        (tmp_path / "err.txt").read_text(),
    )
    assert time.monotonic() - t0 < 60
