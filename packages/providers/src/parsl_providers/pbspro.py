"""``PBSProProvider``: blocks are PBS Pro / OpenPBS jobs (``qsub``, ``qstat -f -F json``, ``qdel``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from parsl.jobs.states import JobState
from parsl.launchers.launchers import SingleNodeLauncher
from parsl_providers.batch import SCRIPT_BODY
from parsl_providers.torque import TorqueProvider

logger = logging.getLogger(__name__)

__all__ = ["PBSProProvider"]

_TEMPLATE = (
    """#!/bin/bash

#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l select=${nodes_per_block}:ncpus=${ncpus}${select_options}
#PBS -o ${job_stdout_path}
#PBS -e ${job_stderr_path}
${scheduler_options}
"""
    + SCRIPT_BODY
)


class PBSProProvider(TorqueProvider):
    """Blocks are PBS Pro jobs: ``#PBS -l select=<nodes>:ncpus=<cpus_per_node><select_options>``.

    Status is one ``qstat -x -f -F json <ids>``: ``-x`` keeps finished jobs listed, with
    their ``Exit_status``, so a failed block is reported FAILED with its exit code.
    Parameters as ``TorqueProvider`` plus ``select_options`` (appended to the select
    statement, e.g. ``'ngpus=4'``) and ``cpus_per_node``; the default launcher is
    ``SingleNodeLauncher()``.
    """

    _label = "pbspro"
    list_command = "qstat -x -f -F json {ids}"

    def __init__(
        self,
        account: str | None = None,
        queue: str | None = None,
        scheduler_options: str = "",
        select_options: str = "",
        worker_init: str = "",
        nodes_per_block: int = 1,
        cpus_per_node: int = 1,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        launcher: Any = SingleNodeLauncher(),  # noqa: B008 (shared default, as upstream)
        walltime: str = "00:20:00",
        cmd_timeout: int = 120,
        *,
        channel: Any = None,
        move_files: bool | None = None,
    ):
        super().__init__(
            account,
            queue,
            scheduler_options,
            worker_init,
            nodes_per_block,
            init_blocks,
            min_blocks,
            max_blocks,
            parallelism,
            launcher,
            walltime,
            cmd_timeout,
            channel=channel,
            move_files=move_files,
        )
        self.select_options = select_options
        self.cpus_per_node = cpus_per_node
        self.template_string = _TEMPLATE

    def _job_config(self, command: str, tasks_per_node: int, files: dict[str, str]) -> dict[str, Any]:
        config = super()._job_config(command, tasks_per_node, files)
        select = self.select_options
        config["select_options"] = (":" + select) if select and not select.startswith(":") else select
        config["ncpus"] = self.cpus_per_node
        return config

    def _parse_status(self, out: str, live: list[str]) -> set[str] | None:
        try:
            jobs = json.loads(out).get("Jobs", {}) if out.strip() else {}
        except (ValueError, AttributeError):
            logger.warning("qstat -F json printed something that is not JSON: %s", out[:200])
            return None
        seen = set()
        for reported, info in jobs.items():
            jid = self._own_id(reported)
            if jid is None or jid not in live:
                continue
            letter = info.get("job_state", "")
            state = self._job_state(letter, jid)
            exit_status = info.get("Exit_status")
            if state == JobState.COMPLETED and isinstance(exit_status, int) and exit_status != 0:
                # Negative codes are PBS's own (e.g. -11 walltime exceeded, -4 killed).
                state = JobState.TIMEOUT if exit_status == -11 else JobState.FAILED
            self._report(jid, state, f"job_state={letter} Exit_status={exit_status}", exit_status)
            seen.add(jid)
        return seen
