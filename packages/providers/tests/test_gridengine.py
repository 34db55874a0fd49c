"""GridEngineProvider against a real Grid Engine (SGE 8.1.9 of .ci/infra/sge-up.sh).

SGE's qsub conflicts with Slurm's Torque wrappers, so these tests run in the CI step
.ci/after.d/50-gridengine.sh (``-m gridengine``); in the main run they are skipped.
"""

from __future__ import annotations

import subprocess

import pytest

import parsl
from parsl.config import Config
from parsl.jobs.states import JobState
from parsl.providers import GridEngineProvider
from parsl.providers.errors import SubmitException
from parsl.utils import execute_wait

pytestmark = [pytest.mark.infra, pytest.mark.gridengine]


class RecordingChannel:
    def __init__(self):
        self.commands = []
        self.script_dir = None

    def execute_wait(self, cmd, walltime=None, envs={}):  # noqa: B006
        self.commands.append(cmd)
        return execute_wait(cmd, walltime)


def make(script_dir, **kw):
    kw.setdefault("walltime", "00:05:00")
    p = GridEngineProvider(**kw)
    p.script_dir = script_dir
    return p


def test_sge_job_runs_and_completes(sge, script_dir, wait):
    p = make(script_dir, worker_init="export GREETING=sge")
    job = p.submit("echo $GREETING job=$JOB_ID", 1)
    assert job.isdigit()
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 60) or p.status([job])[0]
    assert status.state == JobState.COMPLETED, status
    assert f"sge job={job}" in status.stdout


def test_sge_cancel_with_one_qstat_for_all_jobs(sge, script_dir, wait):
    channel = RecordingChannel()
    p = make(script_dir, channel=channel, move_files=False)
    jobs = [p.submit("sleep 300", 1) for _ in range(2)]
    assert wait(lambda: all(s.state == JobState.RUNNING for s in p.status(jobs)), 60)
    del channel.commands[:]
    p.status(jobs)
    assert channel.commands == ["qstat"]
    assert p.cancel(jobs) == [True, True]
    assert channel.commands[-1] == f"qdel {' '.join(jobs)}"
    assert [s.state for s in p.status(jobs)] == [JobState.CANCELLED] * 2
    assert wait(
        lambda: (
            not any(
                j in subprocess.run(["qstat"], capture_output=True, text=True).stdout.split() for j in jobs
            )
        ),
        30,
    )


def test_sge_submit_error(sge, script_dir):
    p = make(script_dir, queue="no_such.q")
    with pytest.raises(SubmitException) as info:
        p.submit("true", 1)
    assert "no_such.q" in info.value.stderr


@pytest.mark.slow
def test_htex_on_grid_engine(sge, tmp_path):
    from parsl.executors import HighThroughputExecutor

    @parsl.python_app
    def job_id():
        import os

        return os.environ.get("JOB_ID")

    provider = GridEngineProvider(walltime="00:05:00", init_blocks=1, max_blocks=1)
    provider.status_polling_interval = 1
    htex = HighThroughputExecutor(
        label="sge_htex", provider=provider, max_workers_per_node=1, heartbeat_period=1, heartbeat_threshold=4
    )
    with parsl.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="none")):
        ids = {job_id().result(timeout=90) for _ in range(3)}
    assert ids == set(provider.resources)
