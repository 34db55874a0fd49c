"""``LSFProvider``: blocks are IBM Spectrum LSF jobs (``bsub``, ``bjobs``, ``bkill``)."""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any

from parsl.errors import ConfigurationError
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.utils import wtime_to_minutes
from parsl_providers.batch import SCRIPT_BODY, BatchProvider
from parsl_providers.job_states import job_state_table

logger = logging.getLogger(__name__)

__all__ = ["LSF_STATES", "LSFProvider"]

#: ``bjobs`` STAT column -> JobState.
LSF_STATES = job_state_table(
    PENDING="PEND WAIT PROV",
    RUNNING="RUN",
    COMPLETED="DONE",
    FAILED="EXIT ZOMBI",
    HELD="PSUSP USUSP SSUSP",
    UNKNOWN="UNKWN",
)

_TEMPLATE = (
    """#!/bin/bash

#BSUB -W ${walltime}
#BSUB -J ${jobname}
#BSUB -o ${job_stdout_path}
#BSUB -e ${job_stderr_path}
${scheduler_options}
"""
    + SCRIPT_BODY
)

_SUBMITTED = re.compile(r"Job <(\d+)> is submitted", re.IGNORECASE)


class LSFProvider(BatchProvider):
    """Blocks are LSF jobs.

    ``submit`` writes ``<job_name>.submit`` (``#BSUB`` lines; ``-W`` is the walltime in
    minutes) and runs ``bsub <script>`` (``bsub < <script>`` with ``bsub_redirection``);
    the id is read from ``Job <ID> is submitted to ...``. Status is one
    ``bjobs -noheader -o 'jobid stat' <ids>``; a job ``bjobs`` no longer knows counts as
    COMPLETED. ``cancel`` is one ``bkill``.

    Parameters (as Parsl's): ``nodes_per_block``, ``cores_per_block`` and
    ``cores_per_node`` (used when ``request_by_nodes=False``: ``#BSUB -n`` and
    ``span[ptile=...]``), ``init_blocks``, ``min_blocks``, ``max_blocks``, ``parallelism``,
    ``walltime``, ``scheduler_options``, ``worker_init``, ``project``, ``queue``,
    ``cmd_timeout``, ``bsub_redirection``, ``request_by_nodes`` (``#BSUB -nnodes``),
    ``launcher``; ``channel`` and ``move_files`` as for ``SlurmProvider``.
    """

    job_states = LSF_STATES
    status_columns = (0, 1)
    status_gone_marker = "not found"
    list_command = "bjobs -noheader -o 'jobid stat' {ids}"
    cancel_command = "bkill"

    def __init__(
        self,
        nodes_per_block: int = 1,
        cores_per_block: int | None = None,
        cores_per_node: int | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        scheduler_options: str = "",
        worker_init: str = "",
        project: str | None = None,
        queue: str | None = None,
        cmd_timeout: int = 120,
        bsub_redirection: bool = False,
        request_by_nodes: bool = True,
        launcher: Any = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        if not request_by_nodes:
            if not cores_per_block or not cores_per_node:
                raise ConfigurationError(
                    "LSFProvider: request_by_nodes=False requests cores, so both cores_per_block and "
                    f"cores_per_node must be positive (got {cores_per_block!r} and {cores_per_node!r})"
                )
            # The strategy counts nodes: derive them from the cores asked for.
            nodes_per_block = math.ceil(cores_per_block / cores_per_node)
        super().__init__("LSF", locals())
        wtime_to_minutes(walltime)
        self.cores_per_block = cores_per_block
        self.cores_per_node = cores_per_node
        self.project = project
        self.queue = queue
        self.bsub_redirection = bsub_redirection
        self.request_by_nodes = request_by_nodes
        lines = [scheduler_options.rstrip("\n")] if scheduler_options else []
        if project:
            lines.append(f"#BSUB -P {project}")
        if queue:
            lines.append(f"#BSUB -q {queue}")
        if request_by_nodes:
            lines.append(f"#BSUB -nnodes {nodes_per_block}")
        else:
            lines.append(f"#BSUB -n {cores_per_block}")
            lines.append(f'#BSUB -R "span[ptile={cores_per_node}]"')
        self._directives = "\n".join(lines)

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.lsf") -> str:
        """Write the bsub script for one block and submit it; return the LSF job id."""
        job_name = f"{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        values = self._script_values(
            command,
            tasks_per_node,
            files,
            walltime=wtime_to_minutes(self.walltime),
            scheduler_options=self._directives,
        )
        return self._submit_job(
            job_name, files, _TEMPLATE, values, "bsub <" if self.bsub_redirection else "bsub"
        )

    def _read_job_id(self, out: str) -> str:
        match = _SUBMITTED.search(out)
        if not match:
            raise ValueError("expected 'Job <ID> is submitted ...'")
        return match.group(1)
