"""A real MPI program (mpi4py on Debian's OpenMPI) run by MPIExecutor inside a real Slurm
allocation: the Slurm 22.05 cluster of .ci/infra/slurm-up.sh, 3 virtual nodes n1..n3 on this
host. The block's one pool holds all three nodes and lends them to tasks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import parsl
from parsl.config import Config
from parsl.launchers import SimpleLauncher

pytestmark = [pytest.mark.infra, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
SLURM_UP = REPO / ".ci" / "infra" / "slurm-up.sh"

HELLO = """\
import os
from mpi4py import MPI
comm = MPI.COMM_WORLD
total = comm.allreduce(comm.Get_rank(), op=MPI.SUM)
# one write per line: the ranks share the task's stdout file
os.write(1, f"rank {comm.Get_rank()} size {comm.Get_size()} node {os.environ.get('SLURMD_NODENAME')} "
            f"sum {total}\\n".encode())
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: .ci/setup.d/20-slurm.sh and 30-mpi.sh)")
    pytest.skip(reason)


def _slurm_usable() -> bool:
    if shutil.which("sinfo") is None or not SLURM_UP.exists():
        return False
    return subprocess.run(["bash", str(SLURM_UP), "status"], capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def slurm_mpi():
    """A usable 3-node Slurm cluster, OpenMPI's mpiexec and mpi4py; else fail (CI) or skip."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        _unavailable("mpi4py is not installed in the test environment")
    if shutil.which("mpiexec") is None:
        _unavailable("mpiexec is missing (apt-get install openmpi-bin)")
    if not _slurm_usable():
        if os.geteuid() != 0 or not SLURM_UP.exists():
            _unavailable(
                "Slurm is not running and cannot be started here (needs root and .ci/infra/slurm-up.sh)"
            )
        up = subprocess.run(
            ["bash", str(SLURM_UP)],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "SLURM_NODES": "3"},
        )
        if up.returncode != 0 or not _slurm_usable():
            _unavailable(f"slurm-up.sh could not start Slurm: {up.stderr[-1500:]}")
    nodes = subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True).stdout.split()
    if len(set(nodes)) < 3:
        _unavailable(f"the Slurm cluster has {len(set(nodes))} node(s); this test needs 3 (SLURM_NODES=3)")


@parsl.bash_app
def mpi_hello(script, stdout=None, stderr=None, parsl_resource_specification=None):
    # root is allowed to run OpenMPI only when told; all "nodes" are one host, so the daemons
    # must talk over loopback
    return (
        f"export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
        f"OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_btl=self,tcp; "
        f'echo "nodes $PARSL_MPI_NODELIST"; echo "start $(date +%s.%N)"; '
        f'$PARSL_MPI_PREFIX --oversubscribe {sys.executable} {script}; echo "end $(date +%s.%N)"'
    )


@parsl.bash_app
def hold_node(seconds, stdout=None, parsl_resource_specification=None):
    return (
        f'echo "nodes $PARSL_MPI_NODELIST"; echo "start $(date +%s.%N)"; sleep {seconds}; '
        f'echo "end $(date +%s.%N)"'
    )


def _fields(path: Path) -> dict[str, str]:
    return {
        line.split(" ", 1)[0]: line.split(" ", 1)[1]
        for line in path.read_text().splitlines()
        if line.split(" ", 1)[0] in ("nodes", "start", "end")
    }


def test_mpi_program_in_a_slurm_allocation(slurm_mpi, tmp_path):
    from parsl.providers import SlurmProvider
    from parsl_executor_htex import MPIExecutor, MPINodesUnavailable

    script = tmp_path / "hello_mpi.py"
    script.write_text(HELLO)
    provider = SlurmProvider(
        nodes_per_block=3,
        init_blocks=1,
        min_blocks=0,
        max_blocks=1,
        walltime="00:10:00",
        launcher=SimpleLauncher(),
        exclusive=False,
        cmd_timeout=30,
    )
    ex = MPIExecutor(
        label="mpi_slurm",
        provider=provider,
        max_workers_per_block=2,
        mpi_launcher="mpiexec",
        heartbeat_period=1,
        heartbeat_threshold=20,
    )
    dfk = parsl.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        out_mpi, out_hold = tmp_path / "mpi.out", tmp_path / "hold.out"
        hold = hold_node(4, stdout=str(out_hold), parsl_resource_specification={"num_nodes": 1})
        mpi = mpi_hello(
            str(script),
            stdout=str(out_mpi),
            stderr=str(tmp_path / "mpi.err"),
            parsl_resource_specification={"num_nodes": 2, "ranks_per_node": 2},
        )
        too_big = hold_node(0, parsl_resource_specification={"num_nodes": 4})
        with pytest.raises(MPINodesUnavailable, match="num_nodes=4 but its block has 3 node"):
            too_big.result(timeout=300)
        mpi.result(timeout=300)
        hold.result(timeout=300)
    finally:
        dfk.cleanup()

    text = out_mpi.read_text()
    ranks = [line.split() for line in text.splitlines() if line.startswith("rank ")]
    assert sorted(int(r[1]) for r in ranks) == [0, 1, 2, 3], text + (tmp_path / "mpi.err").read_text()
    assert {r[3] for r in ranks} == {"4"} and {r[7] for r in ranks} == {"6"}  # one MPI job of 4 ranks
    mpi_f, hold_f = _fields(out_mpi), _fields(out_hold)
    mpi_nodes, hold_nodes = set(mpi_f["nodes"].split(",")), set(hold_f["nodes"].split(","))
    assert len(mpi_nodes) == 2 and len(hold_nodes) == 1 and mpi_nodes | hold_nodes <= {"n1", "n2", "n3"}
    # the ranks ran on the nodes the pool lent the task (Slurm names the node each rank's daemon is on)
    assert {r[5] for r in ranks} <= mpi_nodes, text
    overlapped = float(mpi_f["start"]) < float(hold_f["end"]) and float(hold_f["start"]) < float(mpi_f["end"])
    assert overlapped, (mpi_f, hold_f)  # two workers and enough nodes: both ran at once ...
    assert not mpi_nodes & hold_nodes  # ... on different nodes
