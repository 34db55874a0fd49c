"""Launchers: the generated job-script text, run with bash.

mpiexec/mpirun are the real Open MPI when installed. aprun, jsrun and GNU parallel do not
exist here: small fakes on PATH (contract tests) start ``-n`` copies the way the real tools
do, so the scripts still run end to end. srun runs for real in test_slurm.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from parsl.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SingleNodeLauncher,
    SrunLauncher,
    SrunMPILauncher,
    WrappedLauncher,
)
from parsl.launchers.base import Launcher

COMMAND = 'echo "task rank=${OMPI_COMM_WORLD_RANK:-${FAKE_RANK:-0}} job=$JOBNAME"'


def run(script: str, tmp_path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "JOBNAME": "parsl.test.1", "PARSL_SCRIPT_DIR": str(tmp_path), **(env or {})}
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=full, cwd=tmp_path, timeout=60
    )


@pytest.fixture
def fakebin(tmp_path, monkeypatch):
    """aprun/jsrun/parallel stand-ins: ``-n N`` copies of the command, in parallel."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    multi = """#!/bin/bash
# record the arguments, then start -n copies of what follows the options
echo "$(basename "$0") $*" >> "$PARSL_SCRIPT_DIR/calls.log"
n=1
while [ $# -gt 0 ] && [ "$1" != /bin/bash ]; do
  [ "$1" = -n ] && n=$2
  shift
done
for i in $(seq 0 $((n-1))); do FAKE_RANK=$i "$@" & done
wait
"""
    parallel = """#!/bin/bash
echo "parallel $*" >> "$PARSL_SCRIPT_DIR/calls.log"
i=0
while read -r line; do FAKE_RANK=$i bash -c "$line" & i=$((i+1)); done
wait
"""
    for name, text in (("aprun", multi), ("jsrun", multi), ("parallel", parallel)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return bindir


def ranks(out: str) -> list[str]:
    return sorted(line.split("rank=")[1].split()[0] for line in out.splitlines() if "task rank=" in line)


@pytest.mark.parametrize(
    "launcher, calls",
    [
        (AprunLauncher(overrides="-cc none"), "aprun -n 4 -N 2 -cc none /bin/bash"),
        (JsrunLauncher(overrides="--smpiargs=off"), "jsrun -n 4 -r 2 --smpiargs=off /bin/bash"),
    ],
)
def test_contract_aprun_jsrun_start_every_task(launcher, calls, fakebin, tmp_path):
    done = run(launcher(COMMAND, 2, 2), tmp_path)
    assert done.returncode == 0, done.stderr
    assert ranks(done.stdout) == ["0", "1", "2", "3"]
    assert "job=parsl.test.1" in done.stdout  # the command's variables expand where it runs
    assert (tmp_path / "calls.log").read_text().startswith(calls)
    assert (tmp_path / "cmd_parsl.test.1.sh").read_text().strip() == COMMAND


def test_contract_gnu_parallel(fakebin, tmp_path):
    done = run(GnuParallelLauncher()(COMMAND, 3, 1), tmp_path)
    assert done.returncode == 0, done.stderr
    assert ranks(done.stdout) == ["0", "1", "2"]
    log = (tmp_path / "calls.log").read_text()
    assert "--sshloginfile" in log and "--jobs 3" in log
    assert (tmp_path / "cmd_parsl.test.1.sh.hosts").read_text().strip()


@pytest.mark.skipif(not shutil.which("mpiexec"), reason="mpiexec (Open MPI) is not installed")
def test_mpiexec_launcher_real(tmp_path):
    launcher = MpiExecLauncher(overrides="--allow-run-as-root --oversubscribe")
    done = run(launcher(COMMAND, 3, 1), tmp_path)
    assert done.returncode == 0, done.stderr
    assert ranks(done.stdout) == ["0", "1", "2"]
    assert "--bind-to none" in launcher(COMMAND, 3, 1)


@pytest.mark.skipif(not shutil.which("mpirun"), reason="mpirun (Open MPI) is not installed")
def test_mpirun_launcher_real(tmp_path):
    done = run(MpiRunLauncher(overrides="--allow-run-as-root --oversubscribe")(COMMAND, 2, 1), tmp_path)
    assert done.returncode == 0, done.stderr
    assert ranks(done.stdout) == ["0", "1"]


def test_wrapped_launcher(tmp_path):
    text = WrappedLauncher(prepend="env WRAPPED=yes")("bash -c 'echo wrapped=$WRAPPED'", 1, 1)
    assert text == "env WRAPPED=yes bash -c 'echo wrapped=$WRAPPED'"
    assert run(text, tmp_path).stdout == "wrapped=yes\n"


def test_launcher_debug_output_and_failure(fakebin, tmp_path):
    quiet = run(AprunLauncher(debug=False)("true", 1, 1), tmp_path)
    loud = run(AprunLauncher(debug=True)("true", 1, 1), tmp_path)
    assert quiet.stdout == "" and "Done" in loud.stdout
    # set -e: a failing launch fails the block
    assert run("PATH=/nonexistent\n" + MpiRunLauncher()("true", 1, 1), tmp_path).returncode != 0


def test_srun_text_counts_tasks():
    text = SrunLauncher(overrides="--cpu-bind=none")("worker", 2, 3)
    assert 'srun --ntasks 6 --ntasks-per-node 2 -l --cpu-bind=none bash "$CMDFILE"' in text
    mpi = SrunMPILauncher()("worker", 1, 4)
    assert "TASKBLOCKS=4" in mpi and "srun --exclusive --nodes $NODES_PER_BLOCK" in mpi


def test_upstream_style_script_dir_argument(tmp_path, fakebin):
    # Launchers written for Parsl pass script_dir as a 4th argument; ours accept it.
    other = tmp_path / "elsewhere"
    other.mkdir()
    done = run(AprunLauncher()(COMMAND, 1, 1, str(other)), tmp_path)
    assert done.returncode == 0 and (other / "cmd_parsl.test.1.sh").exists()


def test_every_launcher_is_a_launcher():
    for cls in (
        SimpleLauncher,
        SingleNodeLauncher,
        SrunLauncher,
        SrunMPILauncher,
        AprunLauncher,
        JsrunLauncher,
        MpiExecLauncher,
        MpiRunLauncher,
        GnuParallelLauncher,
    ):
        assert isinstance(cls(), Launcher)
        assert repr(cls()).startswith(cls.__name__ + "(")
    assert repr(WrappedLauncher("time")) == "WrappedLauncher(prepend='time', debug=True)"
