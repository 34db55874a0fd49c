"""SlurmProvider against the real Slurm 22.05 cluster of .ci/infra/slurm-up.sh (3 virtual nodes).

Both status paths run against it: sacct (accounting is on) and squeue (a ``sacct`` on PATH
that answers like a cluster without accounting, as Parsl's probe expects).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time

import pytest

import parsl
from parsl.config import Config
from parsl.jobs.states import JobState, JobStatus
from parsl.launchers import SingleNodeLauncher, SrunLauncher
from parsl.providers import SlurmProvider
from parsl.providers.errors import SubmitException
from parsl.utils import execute_wait

pytestmark = [pytest.mark.infra]


def hide_sacct(tmp_path, monkeypatch):
    """Make ``sacct`` behave as on a cluster without accounting storage."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "sacct"
    fake.write_text("#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")


@pytest.fixture
def no_sacct(tmp_path, monkeypatch):
    hide_sacct(tmp_path, monkeypatch)


class RecordingChannel:
    """Runs commands locally and remembers them (counts scheduler calls)."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.script_dir = None

    def execute_wait(self, cmd, walltime=None, envs={}):  # noqa: B006
        self.commands.append(cmd)
        return execute_wait(cmd, walltime)


def make(script_dir, **kw):
    kw.setdefault("partition", "debug")
    kw.setdefault("walltime", "00:05:00")
    p = SlurmProvider(**kw)
    p.script_dir = script_dir
    return p


def squeue_state(job_id: str) -> str:
    return subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%t"], capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module", autouse=True)
def timeout_job(slurm, tmp_path_factory):
    """A job with a 1-minute walltime, started with the module: Slurm enforces walltimes
    late (about 90 s after the start), so the last test of the module looks at it."""
    d = str(tmp_path_factory.mktemp("walltime"))
    p = make(d, walltime="00:00:20", exclusive=False)
    job = p.submit("sleep 600", 1)
    assert (
        "TimeLimit=00:01:00"
        in subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True).stdout
    )
    return p, job


@pytest.mark.parametrize("path", ["sacct", "squeue"])
def test_submit_run_complete_with_output(slurm, script_dir, wait, path, request):
    if path == "squeue":
        request.getfixturevalue("no_sacct")
    p = make(script_dir, worker_init="export GREETING=hi", exclusive=False)
    assert p.status_command == path
    job = p.submit("echo $GREETING from $SLURMD_NODENAME $JOBNAME", 1, job_name="parsl.test")
    files = os.listdir(script_dir)
    script = next(f for f in files if f.endswith(".submit"))
    text = open(os.path.join(script_dir, script)).read()
    assert "#SBATCH --partition=debug" in text and "#SBATCH --time=5" in text
    assert "#SBATCH --nodes=1" in text and "--exclusive" not in text
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 30) or p.status([job])[0]
    assert status.state == JobState.COMPLETED, status
    out = status.stdout
    assert out is not None and "hi from n" in out and "parsl.test." in out


@pytest.mark.parametrize("path", ["sacct", "squeue"])
def test_failed_job_reported(slurm, script_dir, wait, path, request):
    if path == "squeue":
        request.getfixturevalue("no_sacct")
    p = make(script_dir, exclusive=False, launcher=SingleNodeLauncher(fail_on_any=True))
    job = p.submit("echo doomed >&2; exit 3", 1)
    # on the sacct path the exit code arrives once slurmdbd has the job (squeue may see it end first)
    status = (
        wait(
            lambda: (
                (s := p.status([job])[0]).terminal and (path == "squeue" or s.exit_code is not None) and s
            ),
            30,
        )
        or p.status([job])[0]
    )
    assert status.state == JobState.FAILED, status
    if path == "sacct":
        # the launcher's exit code: one worker failed
        sacct = subprocess.run(["sacct", "-X", "-n", "-P", "-j", str(job)], capture_output=True, text=True)
        assert status.exit_code == 1, (status, p._use_sacct, sacct.stdout)
    assert "doomed" in status.stderr


@pytest.mark.parametrize("path", ["sacct", "squeue"])
def test_cancel_and_external_scancel(slurm, script_dir, wait, path, request):
    if path == "squeue":
        request.getfixturevalue("no_sacct")
    p = make(script_dir, exclusive=False)
    ours, theirs = p.submit("sleep 300", 1), p.submit("sleep 300", 1)
    assert wait(lambda: all(s.state == JobState.RUNNING for s in p.status([ours, theirs])), 30)
    assert p.cancel([ours]) == [True]
    assert p.status([ours])[0].state == JobState.CANCELLED
    assert wait(lambda: squeue_state(ours) in ("CA", ""), 20)
    # Someone else kills the other job: the next status call must see it.
    subprocess.run(["scancel", theirs], check=True)
    status = wait(lambda: (s := p.status([theirs])[0]).terminal and s, 30) or p.status([theirs])[0]
    assert status.state == JobState.CANCELLED, status


def test_status_is_one_command_for_all_jobs(slurm, script_dir, wait):
    channel = RecordingChannel()
    p = make(script_dir, channel=channel, move_files=False, exclusive=False)
    jobs = [p.submit("sleep 30", 1) for _ in range(3)]
    # Jobs reach the accounting database a moment after sbatch; until then squeue answers.
    assert wait(lambda: len(execute_wait(f"sacct -X -n -j {','.join(jobs)}")[1].split("\n")) > 3, 20)
    del channel.commands[:]
    statuses = p.status(jobs)
    assert len(statuses) == 3 and all(not s.terminal for s in statuses)
    assert len(channel.commands) == 1 and channel.commands[0].startswith("sacct")
    assert all(j in channel.commands[0] for j in jobs)
    del channel.commands[:]
    assert p.cancel(jobs) == [True] * 3
    assert channel.commands == [f"scancel {' '.join(jobs)}"]
    # Terminal jobs are not asked about again.
    p.status(jobs)
    assert channel.commands == [f"scancel {' '.join(jobs)}"]


def test_submit_error_carries_stderr(slurm, script_dir):
    p = make(script_dir, partition="no_such_partition")
    with pytest.raises(SubmitException) as info:
        p.submit("true", 1)
    assert "invalid partition" in info.value.stderr.lower()
    assert info.value.retcode != 0 and "sbatch" in str(info.value)


def test_scheduler_command_timeout(slurm, script_dir, tmp_path, monkeypatch):
    bindir = tmp_path / "slowbin"
    bindir.mkdir()
    (bindir / "sbatch").write_text("#!/bin/sh\nsleep 30\n")
    (bindir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    p = make(script_dir, cmd_timeout=1)
    t0 = time.monotonic()
    with pytest.raises(SubmitException, match="cmd_timeout"):
        p.submit("true", 1)
    assert time.monotonic() - t0 < 10


def test_srun_launcher_across_nodes(slurm, script_dir, wait):
    p = make(script_dir, nodes_per_block=3, launcher=SrunLauncher(), exclusive=False)
    job = p.submit('echo "rank=$SLURM_PROCID node=$SLURMD_NODENAME"', 1)
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 40) or p.status([job])[0]
    assert status.state == JobState.COMPLETED, (status, status.stderr)
    nodes = {line.split("node=")[1] for line in status.stdout.splitlines() if "node=" in line}
    assert nodes == {"n1", "n2", "n3"}


def test_user_written_launcher(slurm, script_dir, wait):
    def twice(command, tasks_per_node, nodes_per_block):
        return f"{command}\n{command}"

    p = make(script_dir, launcher=twice, exclusive=False)
    job = p.submit("echo once", 1)
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 30) or p.status([job])[0]
    assert status.stdout.count("once") == 2


# ----------------------------------------------------------------------------- HTEX on Slurm
def _htex_config(run_dir, provider, **kw):
    from parsl.executors import HighThroughputExecutor

    provider.status_polling_interval = 1
    htex = HighThroughputExecutor(
        label="slurm_htex",
        provider=provider,
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=4,
        encrypted=True,
        **kw,
    )
    return Config(
        executors=[htex], run_dir=run_dir, strategy="htex_auto_scale", strategy_period=0.5, max_idletime=2
    )


@parsl.python_app
def where(seconds=0):
    import os
    import time

    time.sleep(seconds)
    return os.environ.get("SLURMD_NODENAME"), os.environ.get("SLURM_JOB_ID")


@pytest.mark.slow
def test_htex_blocks_scale_out_and_in(slurm, tmp_path, wait):
    provider = SlurmProvider(
        partition="debug", init_blocks=1, min_blocks=0, max_blocks=2, walltime="00:05:00", exclusive=False
    )
    with parsl.load(_htex_config(str(tmp_path / "runinfo"), provider)) as dfk:
        ex = dfk.executors["slurm_htex"]
        first = where().result(timeout=60)
        assert first[0] in slurm["nodes"] and first[1] in provider.resources
        # Under load the strategy adds the second block (max_blocks).
        results = [r.result(timeout=90) for r in [where(3) for _ in range(6)]]
        assert len({job for _, job in results}) == 2
        assert len(provider.resources) == 2
        # Idle: both blocks are given back (min_blocks=0) and Slurm sees them cancelled.
        assert wait(lambda: all(s.terminal for s in ex.status().values()), 60), ex.status()
        jobs = list(provider.resources)
        assert wait(lambda: all(squeue_state(j) in ("CA", "CD", "") for j in jobs), 30)
        submit_scripts = os.listdir(os.path.join(dfk.run_dir, "submit_scripts"))
        assert sum(f.endswith(".submit") for f in submit_scripts) == 2


@pytest.mark.slow
def test_htex_block_killed_by_scancel(slurm, tmp_path, wait):
    provider = SlurmProvider(
        partition="debug", init_blocks=1, min_blocks=1, max_blocks=1, walltime="00:05:00", exclusive=False
    )
    with parsl.load(_htex_config(str(tmp_path / "runinfo"), provider)) as dfk:
        ex = dfk.executors["slurm_htex"]
        _, job = where().result(timeout=60)
        stuck = where(120)
        time.sleep(1)
        subprocess.run(["scancel", job], check=True)
        # The running task fails (its manager is lost) and the block shows CANCELLED.
        with pytest.raises(Exception) as info:
            stuck.result(timeout=60)
        # scancel signals every process of the job: the worker (WorkerLost) or its pool
        # (ManagerLost) goes first, depending on timing
        text = str(info.value).lower()
        assert "lost" in text or "loss of worker" in text or "manager" in text, info.value
        assert wait(lambda: any(s.state == JobState.CANCELLED for s in ex.status().values()), 30), ex.status()


@pytest.mark.slow
def test_htex_srun_launcher_two_nodes(slurm, tmp_path):
    provider = SlurmProvider(
        partition="debug",
        nodes_per_block=2,
        init_blocks=1,
        max_blocks=1,
        launcher=SrunLauncher(),
        walltime="00:05:00",
        exclusive=False,
    )
    with parsl.load(_htex_config(str(tmp_path / "runinfo"), provider)):
        results = {where(2) for _ in range(4)}
        results = {f.result(timeout=90) for f in results}
    nodes = {node for node, _ in results}
    assert len(nodes) == 2 and nodes <= set(slurm["nodes"])
    assert len({job for _, job in results}) == 1


# ---------------------------------------------------------- walltime (runs last in this module)
@pytest.mark.slow
def test_walltime_exceeded_is_timeout(timeout_job, wait, monkeypatch, tmp_path):
    p, job = timeout_job
    assert p.status_command == "sacct"
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 180, period=2) or p.status([job])[0]
    assert status.state == JobState.TIMEOUT, status
    # The squeue path sees the same job as TO (squeue --states=all keeps it for MinJobAge).
    hide_sacct(tmp_path, monkeypatch)
    q = make(p.script_dir)
    assert q.status_command == "squeue"
    q.resources[job] = {**p.resources[job], "status": JobStatus(JobState.RUNNING)}
    assert q.status([job])[0].state == JobState.TIMEOUT
