"""``TorqueProvider``: blocks are Torque/PBS jobs (``qsub``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl.jobs.states import JobState
from parsl.providers.errors import SubmitException
from parsl_providers.batch import BatchProvider
from parsl_providers.launchers import AprunLauncher

logger = logging.getLogger(__name__)

__all__ = ["TORQUE_STATES", "TorqueProvider"]

#: ``qstat`` state letters (Torque and PBS Pro) -> JobState.
TORQUE_STATES: dict[str, JobState] = {
    "Q": JobState.PENDING,
    "W": JobState.PENDING,
    "T": JobState.PENDING,
    "M": JobState.PENDING,
    "R": JobState.RUNNING,
    "B": JobState.RUNNING,
    "E": JobState.COMPLETED,
    "C": JobState.COMPLETED,
    "F": JobState.COMPLETED,
    "X": JobState.COMPLETED,
    "H": JobState.HELD,
    "S": JobState.HELD,
    "U": JobState.HELD,
}

_TEMPLATE = """#!/bin/bash

${scheduler_options}
#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l nodes=${nodes_per_block}:ppn=${tasks_per_node}
#PBS -o ${job_stdout_path}
#PBS -e ${job_stderr_path}

${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""


class TorqueProvider(BatchProvider):
    """Blocks are Torque jobs.

    ``submit`` writes ``<script_dir>/parsl.<job_name>.<time>.submit`` (``#PBS`` lines) and
    runs ``qsub [-q queue] [-A account] -o <stdout> -e <stderr> <script>`` (the output
    paths are also given on the command line: Slurm's Torque wrappers ignore ``#PBS -o``).
    Status is one ``qstat <ids>`` for all live jobs (column 5 is the state letter); a job
    ``qstat`` no longer lists counts as COMPLETED. ``cancel`` is one ``qdel``.

    Parameters (as Parsl's): ``account``, ``queue``, ``scheduler_options`` (extra ``#PBS``
    lines), ``worker_init``, ``nodes_per_block``, ``init_blocks``, ``min_blocks``,
    ``max_blocks``, ``parallelism``, ``launcher`` (default ``AprunLauncher()``),
    ``walltime``, ``cmd_timeout``; ``channel`` and ``move_files`` as for ``SlurmProvider``.
    """

    _label = "torque"

    def __init__(
        self,
        account: str | None = None,
        queue: str | None = None,
        scheduler_options: str = "",
        worker_init: str = "",
        nodes_per_block: int = 1,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        launcher: Any = AprunLauncher(),  # noqa: B008 (shared default, as upstream)
        walltime: str = "00:20:00",
        cmd_timeout: int = 120,
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__(
            type(self)._label,
            nodes_per_block,
            init_blocks,
            min_blocks,
            max_blocks,
            parallelism,
            walltime,
            launcher,
            cmd_timeout=cmd_timeout,
            channel=channel,
        )
        self.account = account
        self.queue = queue
        self.scheduler_options = scheduler_options
        self.worker_init = worker_init
        self.move_files = move_files
        self.template_string = _TEMPLATE

    def _job_config(self, command: str, tasks_per_node: int, files: dict[str, str]) -> dict[str, Any]:
        return {
            "nodes": self.nodes_per_block,
            "nodes_per_block": self.nodes_per_block,
            "task_blocks": self.nodes_per_block * tasks_per_node,
            "tasks_per_node": tasks_per_node,
            "walltime": self.walltime,
            "scheduler_options": self.scheduler_options,
            "worker_init": self.worker_init,
            "job_stdout_path": files["stdout"],
            "job_stderr_path": files["stderr"],
            "submit_script_dir": self._job_dir(),
            "user_script": self._launch(command, tasks_per_node),
        }

    def _qsub_options(self, files: dict[str, str]) -> str:
        options = ""
        if self.queue is not None:
            options += f" -q {self.queue}"
        if self.account is not None:
            options += f" -A {self.account}"
        return options + f" -o {files['stdout']} -e {files['stderr']}"

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.torque") -> str:
        """Write the qsub script for one block and submit it; return the job id qsub printed."""
        job_name = f"parsl.{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        path = self._write_script(
            self.template_string, files, job_name, self._job_config(command, tasks_per_node, files)
        )
        out, err = self._submit_command(f"qsub{self._qsub_options(files)} {path}", job_name)
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines:
            raise SubmitException(job_name, "qsub printed no job id", stdout=out, stderr=err, retcode=0)
        job_id = lines[-1]
        self._record(job_id, files)
        logger.info("%s submitted job %s (%s)", type(self).__name__, job_id, files["local_script"])
        return job_id

    status_gone_marker = "Unknown Job"

    def _status_command(self, live: list[str]) -> str:
        return f"qstat {' '.join(live)}"

    def _parse_status(self, out: str, live: list[str]) -> set[str]:
        seen = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[0].lower().startswith("job") or parts[0].startswith("-"):
                continue
            jid = self._own_id(parts[0])
            if jid is None:
                continue
            self._report(jid, TORQUE_STATES.get(parts[4], JobState.UNKNOWN), parts[4])
            seen.add(jid)
        return seen

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Cancel the jobs with one ``qdel``; True for each if it succeeded."""
        return self._cancel_with(f"qdel {' '.join(str(j) for j in job_ids)}", job_ids)
