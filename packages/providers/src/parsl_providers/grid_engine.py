"""``GridEngineProvider``: blocks are (Son of) Grid Engine jobs (``qsub -terse``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl.jobs.states import JobState
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.providers.errors import SubmitException
from parsl_providers.batch import BatchProvider

logger = logging.getLogger(__name__)

__all__ = ["SGE_STATES", "GridEngineProvider"]

#: ``qstat`` state column (lower-cased) -> JobState.
SGE_STATES: dict[str, JobState] = {
    "qw": JobState.PENDING,
    "hqw": JobState.PENDING,
    "hrwq": JobState.PENDING,
    "w": JobState.PENDING,
    "t": JobState.RUNNING,
    "r": JobState.RUNNING,
    "rr": JobState.RUNNING,
    "rt": JobState.RUNNING,
    "s": JobState.HELD,
    "ts": JobState.HELD,
    "ss": JobState.HELD,
    "st": JobState.HELD,
    "eqw": JobState.FAILED,
    "ehqw": JobState.FAILED,
    "ehrqw": JobState.FAILED,
    "er": JobState.FAILED,
    "d": JobState.COMPLETED,
    "dr": JobState.COMPLETED,
    "dt": JobState.COMPLETED,
    "drt": JobState.COMPLETED,
    "ds": JobState.COMPLETED,
    "drs": JobState.COMPLETED,
}

# "$$" is a literal "$" for string.Template: Grid Engine directives start with "#$".
_TEMPLATE = """#!/bin/bash
#$$ -S /bin/bash
#$$ -N ${jobname}
#$$ -o ${job_stdout_path}
#$$ -e ${job_stderr_path}
#$$ -cwd
#$$ -l h_rt=${walltime}
${scheduler_options}

${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""


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
        super().__init__(
            "grid_engine",
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
        self.scheduler_options = scheduler_options
        self.worker_init = worker_init
        self.queue = queue
        self.move_files = move_files

    def get_configs(
        self, command: str, tasks_per_node: int, files: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The values filled into the submit script."""
        files = files or self._job_files("parsl.sge", ".submit")
        return {
            "nodes": self.nodes_per_block,
            "tasks_per_node": tasks_per_node,
            "walltime": self.walltime,
            "scheduler_options": self.scheduler_options,
            "worker_init": self.worker_init,
            "submit_script_dir": self._job_dir(),
            "job_stdout_path": files["stdout"],
            "job_stderr_path": files["stderr"],
            "user_script": self._launch(command, tasks_per_node),
        }

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.sge") -> str:
        """Write the qsub script for one block and submit it; return the job id."""
        job_name = f"{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        path = self._write_script(
            _TEMPLATE, files, job_name, self.get_configs(command, tasks_per_node, files)
        )
        queue = f"-q {self.queue} " if self.queue else ""
        out, err = self._submit_command(f"qsub {queue}-terse {path}", job_name)
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines:
            raise SubmitException(
                job_name, "qsub -terse printed no job id", stdout=out, stderr=err, retcode=0
            )
        job_id = lines[0].split(".")[0]  # array jobs print "ID.1-10:1"
        self._record(job_id, files)
        logger.info("GridEngineProvider submitted job %s (%s)", job_id, files["local_script"])
        return job_id

    def _status_command(self, live: list[str]) -> str:
        return "qstat"

    def _parse_status(self, out: str, live: list[str]) -> set[str]:
        seen = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 5 or not parts[0].isdigit():
                continue
            jid = self._own_id(parts[0])
            if jid is None or jid not in live:
                continue
            state = SGE_STATES.get(parts[4].lower(), JobState.UNKNOWN)
            if state == JobState.UNKNOWN:
                logger.warning("Unknown Grid Engine job state %r for job %s", parts[4], jid)
            self._report(jid, state, parts[4])
            seen.add(jid)
        return seen

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Cancel the jobs with one ``qdel``; True for each if it succeeded."""
        return self._cancel_with(f"qdel {' '.join(str(j) for j in job_ids)}", job_ids)
