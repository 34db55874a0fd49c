"""``SlurmProvider``: blocks are Slurm batch jobs (``sbatch``, ``sacct``/``squeue``, ``scancel``)."""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any

from parsl.jobs.states import JobState
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.utils import wtime_to_minutes
from parsl_providers.batch import SCRIPT_BODY, BatchProvider, chunks
from parsl_providers.job_states import job_state_table

logger = logging.getLogger(__name__)

__all__ = ["SACCT_STATES", "SQUEUE_STATES", "SlurmProvider"]

#: ``sacct`` state names (the first word: ``CANCELLED by 0`` is CANCELLED) -> JobState.
SACCT_STATES = job_state_table(
    PENDING="PENDING REQUEUED REQUEUE_FED CONFIGURING",
    HELD="REQUEUE_HOLD SUSPENDED STOPPED",
    RUNNING="RESIZING RUNNING COMPLETING SIGNALING STAGE_OUT",
    COMPLETED="COMPLETED",
    CANCELLED="CANCELLED",
    FAILED="FAILED NODE_FAIL BOOT_FAIL OUT_OF_MEMORY REVOKED SPECIAL_EXIT",
    TIMEOUT="TIMEOUT DEADLINE PREEMPTED",
)

#: ``squeue`` compact state codes (``%t``) -> JobState.
SQUEUE_STATES = job_state_table(
    PENDING="PD CF RQ RF",
    HELD="RH S ST",
    RUNNING="RS R CG SI SO",
    COMPLETED="CD",
    CANCELLED="CA",
    FAILED="F NF BF OOM RV SE",
    TIMEOUT="TO DL PR",
)

_TEMPLATE = (
    """#!/bin/bash
#SBATCH --job-name=${jobname}
#SBATCH --output=${job_stdout_path}
#SBATCH --error=${job_stderr_path}
#SBATCH --nodes=${nodes}
#SBATCH --time=${walltime}
#SBATCH --ntasks-per-node=${tasks_per_node}
${scheduler_options}
"""
    + SCRIPT_BODY
)


class SlurmProvider(BatchProvider):
    """Blocks are Slurm jobs.

    ``submit`` writes ``<script_dir>/<job_name>.<time>.submit`` with ``#SBATCH`` lines and
    runs ``sbatch``; the job id is read from its output with ``regex_job_id``. Status is
    one ``sacct`` call per ``status_batch_size`` live jobs when accounting works (checked
    once, when the provider is built); otherwise ``squeue --states=all``, and a job that
    has left the queue counts as COMPLETED. ``cancel`` is one ``scancel``.

    Parameters (as Parsl's): ``partition``, ``account``, ``qos``, ``constraint``,
    ``clusters`` (each becomes an ``#SBATCH`` line when set), ``nodes_per_block``,
    ``cores_per_node`` (``--cpus-per-task`` = cores / tasks per node), ``mem_per_node``
    (GB, ``--mem``), ``gpus_per_node``, ``gres``, ``init_blocks``, ``min_blocks``,
    ``max_blocks``, ``parallelism``, ``walltime`` (``HH:MM:SS``; Slurm rounds up to whole
    minutes), ``scheduler_options`` (extra ``#SBATCH`` lines), ``regex_job_id``,
    ``worker_init``, ``cmd_timeout``, ``status_batch_size``, ``exclusive`` and
    ``launcher``. ``channel`` (e.g. ``SSHChannel`` to a login node) runs the Slurm commands
    elsewhere and ``move_files`` says whether scripts must be copied there (default: for
    any channel but ``LocalChannel``).
    """

    job_states = SQUEUE_STATES
    status_columns = (0, 1)

    def __init__(
        self,
        partition: str | None = None,
        account: str | None = None,
        qos: str | None = None,
        constraint: str | None = None,
        clusters: str | None = None,
        nodes_per_block: int = 1,
        cores_per_node: int | None = None,
        mem_per_node: float | None = None,
        gpus_per_node: int | None = None,
        gres: str | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        scheduler_options: str = "",
        regex_job_id: str = r"Submitted batch job (?P<id>\S*)",
        worker_init: str = "",
        cmd_timeout: int = 10,
        status_batch_size: int = 50,
        exclusive: bool = True,
        launcher: Any = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__("slurm", locals())
        wtime_to_minutes(walltime)  # a malformed walltime fails here, not at the first submit
        self.partition = partition
        self.account = account
        self.qos = qos
        self.constraint = constraint
        self.clusters = clusters
        self.cores_per_node = cores_per_node
        self.mem_per_node = mem_per_node
        self.gpus_per_node = gpus_per_node
        self.gres = gres
        self.exclusive = exclusive
        self.regex_job_id = regex_job_id
        self.status_batch_size = status_batch_size
        self._directives = self._sbatch_directives()
        cluster_opt = f" --clusters={clusters}" if clusters else ""
        self.cancel_command = "scancel" + cluster_opt
        self._squeue_cmd = "squeue" + cluster_opt + " --noheader --states=all --format='%i %t'"
        self._sacct_cmd = "sacct" + cluster_opt + " -X --noheader --parsable2 --format=jobid,state,exitcode"
        # Like Parsl: use sacct if it answers (it exits 1 when accounting storage is disabled).
        probe = self._query("sacct -X -n --starttime=now")
        self._use_sacct = probe is not None and probe[0] == 0
        logger.debug("SlurmProvider: job status through %s", "sacct" if self._use_sacct else "squeue")

    @property
    def status_command(self) -> str:
        """``sacct`` or ``squeue``: which command ``status()`` uses."""
        return "sacct" if self._use_sacct else "squeue"

    def _sbatch_directives(self) -> str:
        lines = [self.scheduler_options.rstrip("\n")] if self.scheduler_options else []
        for flag, value in (
            ("partition", self.partition),
            ("account", self.account),
            ("qos", self.qos),
            ("constraint", self.constraint),
            ("clusters", self.clusters),
            ("gpus-per-node", self.gpus_per_node),
            ("gres", self.gres),
        ):
            if value:
                lines.append(f"#SBATCH --{flag}={value}")
        if self.exclusive:
            lines.append("#SBATCH --exclusive")
        return "\n".join(lines)

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.slurm") -> str:
        """Write the sbatch script for one block and submit it; return the Slurm job id."""
        job_name = f"{job_name}.{time.time()}"
        files = self._job_files(job_name, ".submit")
        options = [self._directives] if self._directives else []
        worker_init = self.worker_init
        if self.mem_per_node is not None:
            options.append(f"#SBATCH --mem={_mem_mb(self.mem_per_node)}M")
            worker_init += f"\nexport PARSL_MEMORY_GB={self.mem_per_node}"
        if self.cores_per_node is not None:
            per_task = max(1, math.floor(self.cores_per_node / max(1, tasks_per_node)))
            options.append(f"#SBATCH --cpus-per-task={per_task}")
            worker_init += f"\nexport PARSL_CORES={per_task}"
        values = self._script_values(
            command,
            tasks_per_node,
            files,
            walltime=wtime_to_minutes(self.walltime),
            scheduler_options="\n".join(options),
            worker_init=worker_init,
        )
        return self._submit_job(job_name, files, _TEMPLATE, values, "sbatch")

    def _read_job_id(self, out: str) -> str:
        for line in out.splitlines():
            match = re.match(self.regex_job_id, line.strip())
            if match:
                return match.group("id")
        raise ValueError(f"no line matches regex_job_id={self.regex_job_id!r}")

    #: how long a job that squeue saw finish is asked of sacct again for its exit code
    SACCT_GRACE = 30.0

    def _awaiting_sacct(self, job_id: str) -> bool:
        """A job squeue saw end before slurmdbd recorded it: ask sacct again, for a while, so
        its final state and exit code come from accounting."""
        r = self.resources.get(job_id)
        return (
            r is not None
            and self._use_sacct
            and r["status"].terminal
            and r["status"].exit_code is None
            and time.monotonic() - r.get("awaiting_sacct", -1e9) < self.SACCT_GRACE
        )

    def _live_ids(self) -> list[str]:
        return super()._live_ids() + [jid for jid in self.resources if self._awaiting_sacct(jid)]

    def _may_change(self, job_id: Any) -> bool:
        return super()._may_change(job_id) or self._awaiting_sacct(job_id)

    def _status(self) -> None:
        live = self._live_ids()
        if not live:
            return
        seen: set[str] = set()
        for batch in chunks(live, max(1, self.status_batch_size)):
            ids = ",".join(batch)
            if self._use_sacct:
                answer = self._query(f"{self._sacct_cmd} --jobs={ids}")
                if answer is None or answer[0] != 0:
                    return
                seen |= self._apply_sacct(answer[1])
            missing = [j for j in batch if j not in seen]
            if missing:
                # Not (yet) in the accounting database, or no accounting: ask squeue.
                answer = self._query(f"{self._squeue_cmd} --jobs={','.join(missing)}")
                if answer is None:
                    return
                rc, out, err = answer
                if rc != 0 and "Invalid job id" not in err:
                    logger.warning("squeue failed (rc=%s): %s", rc, err.strip())
                    return
                for jid in self._parse_status(out if rc == 0 else "", missing) or ():
                    if self._use_sacct and self.resources[jid]["status"].terminal:
                        # ended before slurmdbd recorded it: see _awaiting_sacct
                        self.resources[jid].setdefault("awaiting_sacct", time.monotonic())
                    seen.add(jid)
        for jid in live:
            if jid not in seen and not self.resources[jid]["status"].terminal:
                # Slurm forgot it (MinJobAge passed) and there is no accounting to ask.
                self._update(jid, JobState.COMPLETED, "job left the Slurm queue")

    def _apply_sacct(self, out: str) -> set[str]:
        seen = set()
        for line in out.splitlines():
            fields = line.strip().split("|")
            if len(fields) < 2:
                continue
            jid = self._own_id(fields[0])
            if jid is None:
                continue
            raw = fields[1].strip()
            state = self._job_state(raw.split(" ")[0].rstrip("+"), jid, SACCT_STATES)
            self.resources[jid].pop("awaiting_sacct", None)
            self._report(jid, state, raw, _exit_code(fields[2]) if len(fields) > 2 else None)
            seen.add(jid)
        return seen


def _mem_mb(gigabytes: float) -> int:
    return max(1, int(gigabytes * 1024))


def _exit_code(field: str) -> int | None:
    """``sacct`` exit code ``'2:0'`` (code:signal) -> 2; a signal gives 128 + signal."""
    try:
        code, _, sig = field.partition(":")
        code_i, sig_i = int(code), int(sig or 0)
    except ValueError:
        return None
    return code_i if code_i or not sig_i else 128 + sig_i
