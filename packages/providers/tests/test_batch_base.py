"""What the scheduler providers share through ``BatchProvider`` and ``job_state_table``.

The providers keep Parsl's constructor signatures and hand their arguments to the base
class by name; these tests check that every shared setting arrives and that state tables
reject typos. (How listings and submit output are read: test_contracts.py.)
"""

from __future__ import annotations

import pytest

import parsl.providers
from parsl.jobs.states import JobState, JobStatus
from parsl.launchers import SingleNodeLauncher
from parsl.providers import LSFProvider
from parsl_providers.job_states import job_state_table, recorded_statuses

BATCH_PROVIDERS = [
    "CobaltProvider",
    "CondorProvider",
    "GridEngineProvider",
    "LSFProvider",
    "PBSProProvider",
    "SlurmProvider",
    "TorqueProvider",
]


class NoAccounting:
    """A channel on which ``sacct`` fails, as without slurmdbd (SlurmProvider probes it)."""

    script_dir = None

    def execute_wait(self, cmd, walltime=None, envs=None):
        return 1, "", "accounting storage is disabled"


@pytest.mark.parametrize("name", BATCH_PROVIDERS)
def test_every_shared_setting_reaches_the_provider(name):
    cls = getattr(parsl.providers, name)
    launcher = SingleNodeLauncher(debug=False)
    channel = NoAccounting()
    settings = {
        "nodes_per_block": 3,
        "init_blocks": 2,
        "min_blocks": 1,
        "max_blocks": 5,
        "parallelism": 0.5,
        "walltime": "01:02:03",
        "launcher": launcher,
        "cmd_timeout": 7,
        "scheduler_options": "#directive",
        "worker_init": "module load x",
    }
    p = cls(**settings, channel=channel, move_files=False)
    for name, value in settings.items():
        assert getattr(p, name) == value, name
    assert p.channel is channel and p.move_files is False
    assert p.resources == {} and p.script_dir is None
    assert repr(p).startswith(cls.__name__ + "(")


def test_lsf_passes_the_node_count_it_derives_from_cores():
    p = LSFProvider(request_by_nodes=False, cores_per_block=10, cores_per_node=4)
    assert p.nodes_per_block == 3


def test_job_state_table_groups_codes_by_state():
    table = job_state_table(PENDING="Q W", RUNNING="R", HELD="H")
    assert table == {"Q": JobState.PENDING, "W": JobState.PENDING, "R": JobState.RUNNING, "H": JobState.HELD}


def test_job_state_table_rejects_a_state_that_does_not_exist():
    with pytest.raises(ValueError, match="'RUNING' is not a JobState"):
        job_state_table(PENDING="Q", RUNING="R")


def test_job_state_table_rejects_a_code_listed_twice():
    with pytest.raises(ValueError, match="code 'R' is listed as RUNNING and as HELD"):
        job_state_table(RUNNING="R", HELD="H R")


def test_recorded_statuses_reports_an_id_never_made_as_missing():
    running = JobStatus(JobState.RUNNING)
    statuses = recorded_statuses({"a": {"status": running}}, ["a", "zz"])
    assert statuses[0] is running
    assert statuses[1].state == JobState.MISSING and "'zz'" in statuses[1].message
