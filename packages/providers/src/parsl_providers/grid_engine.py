"""``GridEngineProvider``: blocks are (Son of) Grid Engine jobs (``qsub -terse``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl.launchers.launchers import SingleNodeLauncher
from parsl_providers.batch import SCRIPT_BODY, BatchProvider
from parsl_providers.job_states import job_state_table

logger = logging.getLogger(__name__)

__all__ = ["SGE_STATES", "GridEngineProvider"]

#: ``qstat`` state column (lower-cased) -> JobState.
SGE_STATES = job_state_table(
    PENDING="qw hqw hrwq w",
    RUNNING="t r rr rt",
    HELD="s ts ss st",
    FAILED="eqw ehqw ehrqw er",
    COMPLETED="d dr dt drt ds drs",
)

# "$$" is a literal "$" for string.Template: Grid Engine directives start with "#$".
_TEMPLATE = (
    """#!/bin/bash
#$$ -S /bin/bash
#$$ -N ${jobname}
#$$ -o ${job_stdout_path}
#$$ -e ${job_stderr_path}
#$$ -cwd
#$$ -l h_rt=${walltime}
${scheduler_options}
"""
    + SCRIPT_BODY
)


class GridEngineProvider(BatchProvider):
    """Blocks are Grid Engine jobs.

    ``submit`` writes ``<script_dir>/<job_name>.<time>.submit`` (``#$`` lines, ``h_rt`` from
    ``walltime``) and runs ``qsub [-q queue] -terse <script>``, which prints the bare job
    id. Status is one ``qstat`` for all jobs (column 5 is the state); a job no longer
    listed counts as COMPLETED. ``cancel`` is one ``qdel``. The q-commands need
    ``SGE_ROOT`` (and usually ``SGE_CELL``) in the environment, as on any Grid Engine host.

    Parameters (as Parsl's): ``nodes_per_block``, ``init_blocks``, ``min_blocks``,
    ``max_blocks``, ``parallelism``, ``walltime``, ``scheduler_options`` (extra ``#$``
    lines, e.g. ``'#$ -pe smp 4'``), ``worker_init``, ``launcher``, ``cmd_timeout``,
    ``queue``; ``channel`` and ``move_files`` as for ``SlurmProvider``.
    """

    job_states = SGE_STATES
    list_command = "qstat"
    cancel_command = "qdel"

    def __init__(
        self,
        nodes_per_block: int = 1,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        scheduler_options: str = "",
        worker_init: str = "",
        launcher: Any = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        cmd_timeout: int = 60,
        queue: str | None = None,
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__("grid_engine", locals())
        self.queue = queue

    def get_configs(
        self, command: str, tasks_per_node: int, files: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The values filled into the submit script."""
        files = files or self._job_files("parsl.sge", ".submit")
        return self._script_values(command, tasks_per_node, files)

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.sge") -> str:
        """Write the qsub script for one block and submit it; return the job id."""
        job_name = f"{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        queue = f"-q {self.queue} " if self.queue else ""
        return self._submit_job(
            job_name,
            files,
            _TEMPLATE,
            self.get_configs(command, tasks_per_node, files),
            f"qsub {queue}-terse",
        )

    def _read_job_id(self, out: str) -> str:
        lines = out.split()
        if not lines:
            raise ValueError("qsub -terse printed no job id")
        return lines[0].split(".")[0]  # array jobs print "ID.1-10:1"
