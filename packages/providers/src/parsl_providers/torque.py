"""``TorqueProvider``: blocks are Torque/PBS jobs (``qsub``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl_providers.batch import SCRIPT_BODY, BatchProvider
from parsl_providers.job_states import job_state_table
from parsl_providers.launchers import AprunLauncher

logger = logging.getLogger(__name__)

__all__ = ["TORQUE_STATES", "TorqueProvider"]

#: ``qstat`` state letters (Torque and PBS Pro) -> JobState.
TORQUE_STATES = job_state_table(
    PENDING="Q W T M",
    RUNNING="R B",
    COMPLETED="E C F X",
    HELD="H S U",
)

_TEMPLATE = (
    """#!/bin/bash

${scheduler_options}
#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l nodes=${nodes_per_block}:ppn=${tasks_per_node}
#PBS -o ${job_stdout_path}
#PBS -e ${job_stderr_path}
"""
    + SCRIPT_BODY
)


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
    job_states = TORQUE_STATES
    status_gone_marker = "Unknown Job"
    list_command = "qstat {ids}"
    cancel_command = "qdel"

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
        super().__init__(self._label, locals())
        self.account = account
        self.queue = queue
        self.template_string = _TEMPLATE

    def _job_config(self, command: str, tasks_per_node: int, files: dict[str, str]) -> dict[str, Any]:
        return self._script_values(
            command, tasks_per_node, files, task_blocks=self.nodes_per_block * tasks_per_node
        )

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.torque") -> str:
        """Write the qsub script for one block and submit it; return the job id qsub printed."""
        job_name = f"parsl.{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        options = ""
        if self.queue is not None:
            options += f" -q {self.queue}"
        if self.account is not None:
            options += f" -A {self.account}"
        return self._submit_job(
            job_name,
            files,
            self.template_string,
            self._job_config(command, tasks_per_node, files),
            f"qsub{options} -o {files['stdout']} -e {files['stderr']}",
        )

    def _read_job_id(self, out: str) -> str:
        lines = out.split()
        if not lines:
            raise ValueError("qsub printed no job id")
        return lines[-1]
