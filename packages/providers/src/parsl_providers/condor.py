"""``CondorProvider``: blocks are HTCondor jobs (``condor_submit``, ``condor_q``, ``condor_rm``)."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from parsl.jobs.states import JobState
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.providers.errors import ScaleOutFailed, SubmitException
from parsl_providers.batch import BatchProvider, chunks
from parsl_providers.job_states import job_state_table

logger = logging.getLogger(__name__)

__all__ = ["CONDOR_STATES", "CondorProvider"]

#: HTCondor ``JobStatus`` numbers -> JobState.
CONDOR_STATES = job_state_table(
    PENDING="1",  # Idle
    RUNNING="2",
    CANCELLED="3",  # Removed
    COMPLETED="4",
    HELD="5 7",  # Held, Suspended
    FAILED="6",  # Transferring output (after a failure)
)

_TEMPLATE = """universe                = vanilla
should_transfer_files   = YES
when_to_transfer_output = ON_EXIT_OR_EVICT
transfer_executable     = false
transfer_input_files    = ${input_files}
machine_count           = ${nodes}
output                  = ${job_stdout_path}
error                   = ${job_stderr_path}
log                     = ${job_log_path}
executable              = /bin/bash
arguments               = ${job_script}
requirements            = ${requirements}
+projectname            = ${project}
leave_in_queue          = TRUE
environment             = "${environment}"
${scheduler_options}

queue
"""

_SUBMITTED = re.compile(r"(\d+) job\(s\) submitted to cluster (\d+)")


class CondorProvider(BatchProvider):
    """Blocks are HTCondor jobs.

    ``submit`` writes the job's bash script (``worker_init`` + launcher-wrapped command,
    ``<job_name>.script``) and a submit description (``<job_name>.submit``) and runs
    ``condor_submit``; ids are ``<cluster>.<process>`` read from ``N job(s) submitted to
    cluster C.``. A failed submission raises ``ScaleOutFailed``, as in Parsl. Status is
    ``condor_q <ids> -af:jr JobStatus ExitCode`` per ``cmd_chunk_size`` jobs; a completed
    job with a non-zero ``ExitCode`` is FAILED. ``cancel`` is
    ``condor_rm <ids>`` followed by ``condor_rm -forcex <ids>``.

    Parameters (as Parsl's): ``nodes_per_block``, ``cores_per_slot`` (``RequestCpus``),
    ``mem_per_slot`` (GB, ``RequestMemory``), ``init_blocks``, ``min_blocks``,
    ``max_blocks``, ``parallelism``, ``environment`` (dict), ``project``,
    ``scheduler_options`` (extra submit-description lines), ``transfer_input_files``,
    ``walltime``, ``worker_init``, ``launcher``, ``requirements``, ``cmd_timeout``,
    ``cmd_chunk_size``; ``channel`` and ``move_files`` as for ``SlurmProvider``.
    """

    job_states = CONDOR_STATES

    def __init__(
        self,
        nodes_per_block: int = 1,
        cores_per_slot: int | None = None,
        mem_per_slot: float | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        environment: dict[str, str] | None = None,
        project: str = "",
        scheduler_options: str = "",
        transfer_input_files: list[str] | None = None,
        walltime: str = "00:10:00",
        worker_init: str = "",
        launcher: Any = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        requirements: str = "",
        cmd_timeout: int = 60,
        cmd_chunk_size: int = 100,
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__("condor", locals())
        self.cores_per_slot = cores_per_slot
        self.mem_per_slot = mem_per_slot
        # To Parsl a slot is a node.
        self.cores_per_node = cores_per_slot
        self.mem_per_node = mem_per_slot
        self.environment = dict(environment or {})
        self.project = project
        self.transfer_input_files = list(transfer_input_files or [])
        self.requirements = requirements
        self.cmd_chunk_size = cmd_chunk_size

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.condor") -> str:
        """Write the job script and submit description for one block; return its first job id."""
        job_name = f"parsl.{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        script = self._job_files(job_name, ".script")
        options, worker_init = [self.scheduler_options] if self.scheduler_options else [], self.worker_init
        if self.mem_per_slot is not None:
            options.append(f"RequestMemory = {int(self.mem_per_slot * 1024)}")
            worker_init += f"\nexport PARSL_MEMORY_GB={self.mem_per_slot}"
        if self.cores_per_slot is not None:
            options.append(f"RequestCpus = {self.cores_per_slot}")
            worker_init += f"\nexport PARSL_CORES={self.cores_per_slot}"
        with open(script["local_script"], "w") as f:
            f.write(f"{worker_init}\n{self._launch(command, tasks_per_node)}\n")
        script_path = self._stage(script["local_script"])
        environment = {**self.environment, "JOBNAME": f"'{job_name}'"}
        configs = {
            "nodes": self.nodes_per_block,
            "tasks_per_node": tasks_per_node,
            "input_files": ",".join([script_path, *self.transfer_input_files]),
            "job_script": os.path.basename(script_path),
            "project": self.project,
            "requirements": self.requirements,
            "scheduler_options": "\n".join(options),
            "environment": " ".join(f"{k}={v}" for k, v in environment.items()),
            "job_stdout_path": files["stdout"],
            "job_stderr_path": files["stderr"],
            "job_log_path": os.path.splitext(files["script"])[0] + ".log",
            "submit_script_dir": self._job_dir(),
        }
        path = self._write_script(_TEMPLATE, files, job_name, configs)
        try:
            out, _ = self._submit_command(f"condor_submit {path}", job_name)
        except SubmitException as e:
            raise ScaleOutFailed(self.label, e.message) from e
        ids = []
        for count, cluster in _SUBMITTED.findall(out):
            ids += [f"{cluster}.{proc}" for proc in range(int(count))]
        if not ids:
            raise ScaleOutFailed(self.label, f"condor_submit printed no job id: {out.strip()!r}")
        for jid in ids:
            self._record(jid, files)
        logger.info("CondorProvider submitted job %s (%s)", ids[0], files["local_script"])
        return ids[0]

    def _status(self) -> None:
        live = self._live_ids()
        seen = set()
        for batch in chunks(live, max(1, self.cmd_chunk_size)):
            answer = self._query(f"condor_q {' '.join(batch)} -af:jr JobStatus ExitCode")
            if answer is None or answer[0] != 0:
                if answer is not None:
                    logger.warning("condor_q failed (rc=%s): %s", answer[0], answer[2].strip())
                return
            for line in answer[1].splitlines():
                parts = line.split()
                if len(parts) < 2 or parts[0] not in self.resources:
                    continue
                state = self._job_state(parts[1], parts[0])
                code = int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else None
                if state == JobState.COMPLETED and code:
                    state = JobState.FAILED
                self._report(parts[0], state, f"JobStatus={parts[1]} ExitCode={code}", code)
                seen.add(parts[0])
            self._mark_left_queue(batch, seen)

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Remove the jobs (``condor_rm``, then ``-forcex`` for those stuck in X state)."""
        results: list[bool] = []
        for batch in chunks([str(j) for j in job_ids], max(1, self.cmd_chunk_size)):
            ids = " ".join(batch)
            # -forcex only matters for jobs already in the X state; its own failure is not ours.
            results += self._cancel_with(
                f"condor_rm {ids} && {{ condor_rm -forcex {ids} >/dev/null 2>&1; true; }}", batch
            )
        return results
