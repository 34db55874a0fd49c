"""TorqueProvider against Torque-style qsub/qstat/qdel: Slurm's wrappers (slurm-wlm-torque)
on the real Slurm cluster of .ci/infra/slurm-up.sh."""

from __future__ import annotations

import os

import pytest

from parsl.jobs.states import JobState
from parsl.launchers import SingleNodeLauncher
from parsl.providers import TorqueProvider
from parsl.providers.errors import SubmitException

pytestmark = [pytest.mark.infra]


@pytest.fixture
def torque(slurm):
    """The slurm fixture checks that slurm-wlm-torque (qsub, qstat, qdel) is installed."""
    return slurm


def make(script_dir, **kw):
    kw.setdefault("launcher", SingleNodeLauncher())
    kw.setdefault("walltime", "00:05:00")
    p = TorqueProvider(**kw)
    p.script_dir = script_dir
    return p


def test_torque_submit_status_output(torque, script_dir, wait):
    p = make(script_dir, worker_init="export GREETING=torque")
    job = p.submit("echo $GREETING job=$PBS_JOBID", 1)
    assert job.isdigit()
    text = open(
        os.path.join(script_dir, next(f for f in os.listdir(script_dir) if f.endswith(".submit")))
    ).read()
    assert "#PBS -l walltime=00:05:00" in text and "#PBS -l nodes=1:ppn=1" in text
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 30) or p.status([job])[0]
    assert status.state == JobState.COMPLETED, status
    assert f"torque job={job}" in status.stdout


def test_torque_cancel_and_batched_status(torque, script_dir, wait):
    p = make(script_dir)
    jobs = [p.submit("sleep 300", 1) for _ in range(2)]
    assert wait(lambda: all(s.state == JobState.RUNNING for s in p.status(jobs)), 30)
    assert p.cancel(jobs) == [True, True]
    assert [s.state for s in p.status(jobs)] == [JobState.CANCELLED] * 2
    # A second provider that did not cancel them sees them leave the queue (qstat shows C).
    q = make(script_dir)
    for j in jobs:
        q.resources[j] = {**p.resources[j]}
        q._update(j, JobState.RUNNING)
    assert wait(lambda: all(s.state == JobState.COMPLETED for s in q.status(jobs)), 30)


def test_torque_submit_error(torque, script_dir):
    p = make(script_dir, queue="no_such_queue")
    with pytest.raises(SubmitException) as info:
        p.submit("true", 1)
    assert "invalid partition" in (info.value.stderr + info.value.stdout).lower()
