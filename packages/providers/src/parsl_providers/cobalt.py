"""``CobaltProvider``: blocks are Cobalt jobs (ALCF; ``qsub --mode script``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl.jobs.states import JobState
from parsl.providers.errors import SubmitException
from parsl.utils import wtime_to_minutes
from parsl_providers.batch import BatchProvider
from parsl_providers.launchers import AprunLauncher

logger = logging.getLogger(__name__)

__all__ = ["COBALT_STATES", "CobaltProvider"]

#: Cobalt ``qstat`` State column (lower-cased) -> JobState.
COBALT_STATES: dict[str, JobState] = {
    "queued": JobState.PENDING,
    "starting": JobState.PENDING,
    "user_hold": JobState.HELD,
    "admin_hold": JobState.HELD,
    "dep_hold": JobState.HELD,
    "dep_fail": JobState.FAILED,
    "running": JobState.RUNNING,
    "exiting": JobState.COMPLETED,
    "killing": JobState.CANCELLED,
}

_TEMPLATE = """#!/bin/bash -e
${scheduler_options}

${worker_init}

export JOBNAME="${jobname}"
echo "Cobalt job ${jobname} on $$(cat $${COBALT_NODEFILE:-/dev/null} | tr '\\n' ' ')"

${user_script}
"""


class CobaltProvider(BatchProvider):
    """Blocks are Cobalt jobs.

    ``submit`` writes ``<job_name>.submit`` and runs
    ``qsub -n <nodes> -t <minutes> [-q queue] [-A account] -O <prefix> --mode script
    <script>``; Cobalt prints the job id and writes ``<prefix>.output``/``.error``. Status
    is one ``qstat -u $USER`` (column 5 is the state); a job no longer listed counts as
    COMPLETED. ``cancel`` is one ``qdel``.

    Parameters (as Parsl 0.9's): ``nodes_per_block``, ``init_blocks``, ``min_blocks``,
    ``max_blocks``, ``parallelism``, ``walltime``, ``account``, ``queue``,
    ``scheduler_options`` (extra ``#COBALT`` lines), ``worker_init``, ``launcher``
    (default ``AprunLauncher()``), ``cmd_timeout``; ``channel`` and ``move_files`` as for
    ``SlurmProvider``.
    """

    def __init__(
        self,
        nodes_per_block: int = 1,
        init_blocks: int = 0,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        account: str | None = None,
        queue: str | None = None,
        scheduler_options: str = "",
        worker_init: str = "",
        launcher: Any = AprunLauncher(),  # noqa: B008 (shared default, as upstream)
        cmd_timeout: int = 10,
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__(
            "cobalt",
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
        wtime_to_minutes(walltime)
        self.account = account
        self.queue = queue
        self.scheduler_options = scheduler_options
        self.worker_init = worker_init
        self.move_files = move_files

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.cobalt") -> str:
        """Write the Cobalt script for one block and submit it; return the job id."""
        job_name = f"parsl.{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        prefix = files["script"][: -len(".submit")]
        files["stdout"], files["stderr"] = prefix + ".output", prefix + ".error"
        configs = {
            "scheduler_options": self.scheduler_options,
            "worker_init": self.worker_init,
            "user_script": self._launch(command, tasks_per_node),
        }
        path = self._write_script(_TEMPLATE, files, job_name, configs)
        options = f"-n {self.nodes_per_block} -t {wtime_to_minutes(self.walltime)}"
        if self.queue:
            options += f" -q {self.queue}"
        if self.account:
            options += f" -A {self.account}"
        out, err = self._submit_command(f"qsub {options} -O {prefix} --mode script {path}", job_name)
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines or not lines[-1].isdigit():
            raise SubmitException(
                job_name, "could not read the job id from qsub's output", stdout=out, stderr=err, retcode=0
            )
        job_id = lines[-1]
        self._record(job_id, files)
        return job_id

    def _status_command(self, live: list[str]) -> str:
        return "qstat -u $USER"

    def _parse_status(self, out: str, live: list[str]) -> set[str]:
        seen = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[0] not in live:
                continue
            self._report(parts[0], COBALT_STATES.get(parts[4].lower(), JobState.UNKNOWN), parts[4])
            seen.add(parts[0])
        return seen

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Cancel the jobs with one ``qdel``; True for each if it succeeded."""
        return self._cancel_with(f"qdel {' '.join(str(j) for j in job_ids)}", job_ids)
