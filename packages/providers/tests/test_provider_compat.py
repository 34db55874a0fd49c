"""Providers accept what Parsl's accept: a ``pathlib.Path`` as ``script_dir`` (set by Parsl's
own tests and by scripts that build paths with pathlib), against the real Slurm of .ci/infra."""

from __future__ import annotations

import pathlib

import pytest

from parsl.jobs.states import JobState
from parsl.providers import SlurmProvider

pytestmark = [pytest.mark.infra]


def test_slurm_submit_with_a_pathlib_script_dir(slurm, tmp_path, wait):
    p = SlurmProvider(partition="debug", walltime="00:05:00", exclusive=False)
    p.script_dir = pathlib.Path(tmp_path)
    job = p.submit("echo from-a-path-script-dir", 1, job_name="parsl.pathlib")
    status = wait(lambda: (s := p.status([job])[0]).terminal and s, 60) or p.status([job])[0]
    assert status.state == JobState.COMPLETED, status
    assert "from-a-path-script-dir" in (status.stdout or "")
