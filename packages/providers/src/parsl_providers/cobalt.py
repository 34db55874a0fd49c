"""``CobaltProvider``: blocks are Cobalt jobs (ALCF; ``qsub --mode script``, ``qstat``, ``qdel``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from parsl.utils import wtime_to_minutes
from parsl_providers.batch import SCRIPT_BODY, BatchProvider
from parsl_providers.job_states import job_state_table
from parsl_providers.launchers import AprunLauncher

logger = logging.getLogger(__name__)

__all__ = ["COBALT_STATES", "CobaltProvider"]

#: Cobalt ``qstat`` State column (lower-cased) -> JobState.
COBALT_STATES = job_state_table(
    PENDING="queued starting",
    HELD="user_hold admin_hold dep_hold",
    FAILED="dep_fail",
    RUNNING="running",
    COMPLETED="exiting",
    CANCELLED="killing",
)

_TEMPLATE = (
    """#!/bin/bash -e
${scheduler_options}
echo "Cobalt job ${jobname} on $$(cat $${COBALT_NODEFILE:-/dev/null} | tr '\\n' ' ')"
"""
    + SCRIPT_BODY
)


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

    job_states = COBALT_STATES
    list_command = "qstat -u $USER"
    cancel_command = "qdel"

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
        super().__init__("cobalt", locals())
        wtime_to_minutes(walltime)
        self.account = account
        self.queue = queue

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.cobalt") -> str:
        """Write the Cobalt script for one block and submit it; return the job id."""
        job_name = f"parsl.{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        prefix = files["script"][: -len(".submit")]
        files["stdout"], files["stderr"] = prefix + ".output", prefix + ".error"
        options = f"-n {self.nodes_per_block} -t {wtime_to_minutes(self.walltime)}"
        if self.queue:
            options += f" -q {self.queue}"
        if self.account:
            options += f" -A {self.account}"
        return self._submit_job(
            job_name,
            files,
            _TEMPLATE,
            self._script_values(command, tasks_per_node, files),
            f"qsub {options} -O {prefix} --mode script",
        )

    def _read_job_id(self, out: str) -> str:
        lines = out.strip().splitlines()
        if not lines or not lines[-1].strip().isdigit():
            raise ValueError("expected the job number alone on the last line")
        return lines[-1].strip()
