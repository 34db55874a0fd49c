"""Contract tests for schedulers that cannot run on this machine (HTCondor, LSF, PBS Pro,
Cobalt) and for output formats the local schedulers do not print (real Torque ids,
Grid Engine, sacct edge cases).

A fake channel records every command a provider runs and answers with output written
from the tools' documented formats. The tests check the exact commands, the files the
provider writes and how the answers become job states.
"""

from __future__ import annotations

import json
import logging
import os
import re

import pytest

from parsl.jobs.states import JobState
from parsl.launchers import SingleNodeLauncher
from parsl.providers import (
    CobaltProvider,
    CondorProvider,
    GridEngineProvider,
    LSFProvider,
    PBSProProvider,
    SlurmProvider,
    TorqueProvider,
)
from parsl.providers.errors import ScaleOutFailed, SubmitException


class FakeScheduler:
    """A channel answering commands from a table of ``regex -> (rc, stdout, stderr)``."""

    def __init__(self, answers: dict[str, tuple[int, str, str]] | None = None):
        self.answers = dict(answers or {})
        self.commands: list[str] = []
        self.script_dir = None

    def answer(self, pattern: str, rc: int = 0, out: str = "", err: str = "") -> None:
        others = {k: v for k, v in self.answers.items() if k != pattern}
        self.answers = {pattern: (rc, out, err), **others}

    def execute_wait(self, cmd, walltime=None, envs={}):  # noqa: B006
        self.commands.append(cmd)
        for pattern, reply in self.answers.items():
            if re.search(pattern, cmd):
                return reply
        return 127, "", f"{cmd.split()[0]}: command not found"


def build(cls, script_dir, channel, **kw):
    kw.setdefault("launcher", SingleNodeLauncher())
    p = cls(channel=channel, move_files=False, **kw)
    p.script_dir = script_dir
    return p


def only_script(script_dir, suffix=".submit"):
    names = [n for n in os.listdir(script_dir) if n.endswith(suffix)]
    assert len(names) == 1, names
    return os.path.join(script_dir, names[0]), open(os.path.join(script_dir, names[0])).read()


# ------------------------------------------------------------------------------ HTCondor
def test_contract_condor_submit_status_cancel(script_dir):
    ch = FakeScheduler()
    p = build(
        CondorProvider,
        script_dir,
        ch,
        cores_per_slot=4,
        mem_per_slot=2,
        project="proj",
        requirements='OpSys == "LINUX"',
        environment={"A": "1"},
        worker_init="module load py",
    )
    ch.answer(r"^condor_submit ", out="Submitting job(s).\n1 job(s) submitted to cluster 4711.\n")
    job = p.submit("worker.py", 1)
    assert job == "4711.0"
    path, text = only_script(script_dir)
    assert ch.commands[-1] == f"condor_submit {path}"
    assert "RequestCpus = 4" in text and "RequestMemory = 2048" in text
    assert "+projectname            = proj" in text and 'requirements            = OpSys == "LINUX"' in text
    assert "leave_in_queue          = TRUE" in text and "A=1 JOBNAME=" in text
    _, script = only_script(script_dir, ".script")
    assert "module load py" in script and "export PARSL_CORES=4" in script and "worker.py" in script

    ch.answer(r"^condor_q ", out="4711.0 2 undefined\n")
    assert p.status([job])[0].state == JobState.RUNNING
    assert ch.commands[-1] == "condor_q 4711.0 -af:jr JobStatus ExitCode"
    ch.answer(r"^condor_q ", out="4711.0 4 3\n")
    status = p.status([job])[0]
    assert (status.state, status.exit_code) == (JobState.FAILED, 3)

    ch.answer(r"^condor_submit ", out="1 job(s) submitted to cluster 4712.\n")
    second = p.submit("worker.py", 1)
    ch.answer(r"^condor_rm ", out="All jobs in cluster 4712 have been marked for removal\n")
    assert p.cancel([second]) == [True]
    assert ch.commands[-1].startswith("condor_rm 4712.0 && { condor_rm -forcex 4712.0")
    assert p.status([second])[0].state == JobState.CANCELLED


def test_contract_condor_submit_failure_is_scale_out_failed(script_dir):
    ch = FakeScheduler({r"^condor_submit ": (1, "", "ERROR: Failed to connect to local queue manager\n")})
    p = build(CondorProvider, script_dir, ch)
    with pytest.raises(ScaleOutFailed, match="Failed to connect to local queue manager"):
        p.submit("worker.py", 1)


# ------------------------------------------------------------------------------- LSF
def test_contract_lsf_submit_status_cancel(script_dir):
    ch = FakeScheduler({r"^bsub ": (0, "Job <52311> is submitted to queue <batch>.\n", "")})
    p = build(
        LSFProvider, script_dir, ch, project="CSC123", queue="batch", walltime="01:30:00", nodes_per_block=2
    )
    job = p.submit("worker.py", 1)
    assert job == "52311"
    path, text = only_script(script_dir)
    assert ch.commands[-1] == f"bsub {path}"
    for line in ("#BSUB -W 90", "#BSUB -P CSC123", "#BSUB -q batch", "#BSUB -nnodes 2", "#BSUB -J parsl."):
        assert line in text
    ch.answer(r"^bjobs ", out="52311 RUN\n")
    assert p.status([job])[0].state == JobState.RUNNING
    assert ch.commands[-1] == "bjobs -noheader -o 'jobid stat' 52311"
    ch.answer(r"^bjobs ", out="52311 EXIT\n")
    assert p.status([job])[0].state == JobState.FAILED

    second = p.submit("worker.py", 1)
    ch.answer(r"^bjobs ", rc=255, err="Job <52311> is not found\n")
    assert p.status([second])[0].state == JobState.COMPLETED  # gone from bjobs
    third = p.submit("worker.py", 1)
    ch.answer(r"^bkill ", out="Job <52311> is being terminated\n")
    assert p.cancel([third]) == [True]
    assert ch.commands[-1] == "bkill 52311"


def test_contract_lsf_cores_and_redirection(script_dir):
    ch = FakeScheduler({r"^bsub ": (0, "Job <7> is submitted to default queue <normal>.\n", "")})
    p = build(
        LSFProvider,
        script_dir,
        ch,
        request_by_nodes=False,
        cores_per_block=10,
        cores_per_node=4,
        bsub_redirection=True,
    )
    assert p.nodes_per_block == 3
    p.submit("worker.py", 1)
    path, text = only_script(script_dir)
    assert ch.commands[-1] == f"bsub < {path}"
    assert "#BSUB -n 10" in text and '#BSUB -R "span[ptile=4]"' in text
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="cores_per_block"):
        LSFProvider(request_by_nodes=False)


def test_contract_lsf_submit_failure(script_dir):
    ch = FakeScheduler(
        {r"^bsub ": (255, "", "Project <nope> is not a valid project name. Job not submitted.\n")}
    )
    p = build(LSFProvider, script_dir, ch)
    with pytest.raises(SubmitException) as info:
        p.submit("worker.py", 1)
    assert "not a valid project" in info.value.stderr and info.value.retcode == 255


# ---------------------------------------------------------------------------- PBS Pro
PBSPRO_QSTAT = {
    "timestamp": 1795250000,
    "pbs_version": "2022.1.3",
    "pbs_server": "pbs01",
    "Jobs": {
        "1234.pbs01": {
            "Job_Name": "parsl.parsl.pbspro.1",
            "Job_Owner": "alice@login01",
            "job_state": "R",
            "queue": "workq",
            "Resource_List": {"ncpus": 8, "nodect": 2, "select": "2:ncpus=4", "walltime": "00:20:00"},
            "exec_host": "n001/0*4+n002/0*4",
        },
        "1235.pbs01": {"Job_Name": "parsl.parsl.pbspro.2", "job_state": "F", "Exit_status": 0},
        "1236.pbs01": {"Job_Name": "parsl.parsl.pbspro.3", "job_state": "F", "Exit_status": 2},
        "1237.pbs01": {"Job_Name": "parsl.parsl.pbspro.4", "job_state": "F", "Exit_status": -11},
        "1238.pbs01": {"Job_Name": "parsl.parsl.pbspro.5", "job_state": "Q"},
    },
}


def test_contract_pbspro_submit_and_json_status(script_dir):
    ch = FakeScheduler()
    p = build(
        PBSProProvider,
        script_dir,
        ch,
        account="ACCT",
        queue="workq",
        cpus_per_node=4,
        select_options="ngpus=1",
        nodes_per_block=2,
    )
    ids = []
    for n in range(5):
        ch.answer(r"^qsub ", out=f"{1234 + n}.pbs01\n")
        ids.append(p.submit("worker.py", 1))
    assert ids[0] == "1234.pbs01"
    assert re.fullmatch(r"qsub -q workq -A ACCT -o \S+\.stdout -e \S+\.stderr \S+\.submit", ch.commands[-1])
    text = open(ch.commands[-1].split()[-1]).read()
    assert "#PBS -l select=2:ncpus=4:ngpus=1" in text and "#PBS -l walltime=00:20:00" in text
    ch.answer(r"^qstat ", out=json.dumps(PBSPRO_QSTAT, indent=4))
    states = p.status(ids)
    assert ch.commands[-1] == f"qstat -x -f -F json {' '.join(ids)}"
    assert [s.state for s in states] == [
        JobState.RUNNING,
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.TIMEOUT,
        JobState.PENDING,
    ]
    assert states[2].exit_code == 2


def test_contract_pbspro_qstat_garbage_keeps_states(script_dir):
    ch = FakeScheduler({r"^qsub ": (0, "77.pbs01\n", "")})
    p = build(PBSProProvider, script_dir, ch)
    job = p.submit("worker.py", 1)
    ch.answer(r"^qstat ", rc=2, err="qstat: Unknown option: F\n")
    assert p.status([job])[0].state == JobState.PENDING


# ------------------------------------------------------------------------------ Torque
def test_contract_torque_truncated_ids(script_dir):
    ch = FakeScheduler({r"^qsub ": (0, "1234.torque01.cluster.example\n", "")})
    p = build(TorqueProvider, script_dir, ch)
    job = p.submit("worker.py", 1)
    ch.answer(
        r"^qstat ",
        out=(
            "Job ID                    Name             User            Time Use S Queue\n"
            "------------------------- ---------------- --------------- -------- - -----\n"
            "1234.torque01              parsl.parsl.tor  alice           00:00:01 R batch\n"
        ),
    )
    assert p.status([job])[0].state == JobState.RUNNING
    assert ch.commands[-1] == "qstat 1234.torque01.cluster.example"


# ------------------------------------------------------------------------------ Cobalt
def test_contract_cobalt_submit_status_cancel(script_dir):
    ch = FakeScheduler({r"^qsub ": (0, "348217\n", "")})
    p = build(
        CobaltProvider,
        script_dir,
        ch,
        nodes_per_block=2,
        walltime="00:30:00",
        queue="debug-cache-quad",
        account="CSC249",
    )
    job = p.submit("worker.py", 1)
    assert job == "348217"
    assert re.fullmatch(
        r"qsub -n 2 -t 30 -q debug-cache-quad -A CSC249 -O \S+ --mode script \S+\.submit", ch.commands[-1]
    )
    ch.answer(
        r"^qstat ",
        out=(
            "JobID   User   WallTime  Nodes  State    Location\n"
            "=====================================================\n"
            "348217  alice  00:30:00  2      running  3824-3825\n"
        ),
    )
    assert p.status([job])[0].state == JobState.RUNNING
    assert ch.commands[-1] == "qstat -u $USER"
    ch.answer(r"^qdel ", out="      Deleted Jobs\nJobID  User\n=====\n348217 alice\n")
    assert p.cancel([job]) == [True] and ch.commands[-1] == "qdel 348217"


# --------------------------------------------------------------------------- Grid Engine
def test_contract_grid_engine_qstat_columns(script_dir):
    ch = FakeScheduler()
    p = build(GridEngineProvider, script_dir, ch, queue="all.q", scheduler_options="#$ -pe smp 2")
    ids = []
    for n in (3, 4, 5):
        ch.answer(r"^qsub ", out=f"{n}\n")
        ids.append(p.submit("worker.py", 1))
    assert re.fullmatch(r"qsub -q all.q -terse \S+\.submit", ch.commands[-1])
    text = open(ch.commands[-1].split()[-1]).read()
    assert "#$ -pe smp 2" in text and "#$ -l h_rt=00:10:00" in text
    ch.answer(
        r"^qstat$",
        out=(
            "job-ID  prior   name       user         state submit/start at     queue              slots ja-task-ID\n"
            "------------------------------------------------------------------------------------------------\n"
            "      3 0.55500 parsl.sge. root         r     11/21/2026 08:40:01 all.q@vm               1\n"
            "      4 0.00000 parsl.sge. root         Eqw   11/21/2026 08:40:02                        1\n"
        ),
    )
    assert [s.state for s in p.status(ids)] == [JobState.RUNNING, JobState.FAILED, JobState.COMPLETED]


# ------------------------------------------------------------------------------ Slurm
def test_contract_slurm_sacct_parsing(script_dir):
    ch = FakeScheduler({r"^sacct -X -n": (0, "", ""), r"^sbatch ": (0, "Submitted batch job 101\n", "")})
    p = build(
        SlurmProvider,
        script_dir,
        ch,
        partition="gpu",
        account="acct",
        qos="high",
        constraint="v100",
        gpus_per_node=2,
        mem_per_node=4,
        cores_per_node=8,
    )
    ids = []
    for n in range(4):
        ch.answers[r"^sbatch "] = (0, f"Submitted batch job {101 + n}\n", "")
        ids.append(p.submit("worker.py", 2))
    text = open(ch.commands[-1].split()[-1]).read()
    for line in (
        "#SBATCH --partition=gpu",
        "#SBATCH --account=acct",
        "#SBATCH --qos=high",
        "#SBATCH --constraint=v100",
        "#SBATCH --gpus-per-node=2",
        "#SBATCH --mem=4096M",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --exclusive",
        "#SBATCH --ntasks-per-node=2",
        "export PARSL_CORES=4",
        "export PARSL_MEMORY_GB=4",
    ):
        assert line in text
    ch.answer(
        r"^sacct ",
        out="101|CANCELLED by 0|0:15\n102|OUT_OF_MEMORY|0:125\n103|COMPLETED|0:0\n104|NODE_FAIL|1:0\n",
    )
    states = p.status(ids)
    assert [s.state for s in states] == [
        JobState.CANCELLED,
        JobState.FAILED,
        JobState.COMPLETED,
        JobState.FAILED,
    ]
    assert states[0].message == "CANCELLED by 0" and states[3].exit_code == 1
    assert ch.commands[-1] == (
        "sacct -X --noheader --parsable2 --format=jobid,state,exitcode --jobs=101,102,103,104"
    )


def test_contract_slurm_clusters_and_batches(script_dir):
    ch = FakeScheduler({r"^sacct -X -n": (1, "", "Slurm accounting storage is disabled\n")})
    p = build(SlurmProvider, script_dir, ch, clusters="c1", status_batch_size=2)
    assert p.status_command == "squeue"
    ids = []
    for n in range(3):
        ch.answers[r"^sbatch "] = (0, f"Submitted batch job {200 + n} on cluster c1\n", "")
        ids.append(p.submit("worker.py", 1))
    ch.answer(r"^squeue ", out="200 R\n201 PD\n")
    states = p.status(ids)
    status_cmds = [c for c in ch.commands if c.startswith("squeue")]
    assert status_cmds == [
        "squeue --clusters=c1 --noheader --states=all --format='%i %t' --jobs=200,201",
        "squeue --clusters=c1 --noheader --states=all --format='%i %t' --jobs=202",
    ]
    # 202 is in neither answer: it left the queue.
    assert [s.state for s in states] == [JobState.RUNNING, JobState.PENDING, JobState.COMPLETED]
    p.cancel(ids[:2])
    assert ch.commands[-1] == "scancel --clusters=c1 200 201"


def test_contract_unparseable_submit_output(script_dir):
    ch = FakeScheduler({r"^sacct": (0, "", ""), r"^sbatch ": (0, "sbatch: queued somewhere\n", "")})
    p = build(SlurmProvider, script_dir, ch)
    with pytest.raises(SubmitException, match="regex_job_id"):
        p.submit("worker.py", 1)


# ------------------------------------------------------------------ every scheduler
def test_other_jobs_in_a_queue_listing_are_not_ours(script_dir):
    # qstat lists every job of the user: job 12 is someone's other job, ours is 123.
    ch = FakeScheduler({r"^qsub ": (0, "123\n", "")})
    p = build(GridEngineProvider, script_dir, ch)
    job = p.submit("worker.py", 1)
    ch.answer(
        r"^qstat$",
        out=(
            "job-ID  prior   name       user  state submit/start at     queue   slots\n"
            "--------------------------------------------------------------------------\n"
            "    123 0.55500 parsl.sge. root  r     11/21/2026 08:40:01 all.q@vm    1\n"
            "     12 0.00000 other      root  Eqw   11/21/2026 08:40:02             1\n"
        ),
    )
    assert p.status([job])[0].state == JobState.RUNNING


def test_an_unlisted_state_code_is_unknown_and_logged(script_dir, caplog):
    ch = FakeScheduler({r"^qsub ": (0, "348217\n", "")})
    p = build(CobaltProvider, script_dir, ch)
    job = p.submit("worker.py", 1)
    ch.answer(r"^qstat ", out="348217  alice  00:30:00  2  teleporting  3824\n")
    with caplog.at_level(logging.WARNING, logger="parsl_providers.batch"):
        assert p.status([job])[0].state == JobState.UNKNOWN
    assert "unknown job state 'teleporting' for job 348217" in caplog.text


@pytest.mark.parametrize(
    "cls, pattern, expected",
    [
        (CobaltProvider, r"^qsub ", "job number alone on the last line"),
        (GridEngineProvider, r"^qsub ", "qsub -terse printed no job id"),
        (TorqueProvider, r"^qsub ", "qsub printed no job id"),
        (LSFProvider, r"^bsub ", "Job <ID> is submitted"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_submit_output_without_a_job_id_says_what_was_expected(cls, pattern, expected, script_dir):
    ch = FakeScheduler({pattern: (0, "" if cls is not CobaltProvider else "queued\n", "")})
    p = build(cls, script_dir, ch)
    with pytest.raises(SubmitException, match=re.escape(expected)) as info:
        p.submit("worker.py", 1)
    assert "could not read the job id from the output of" in str(info.value)
    assert p.resources == {}
