"""From what a scheduler or cloud reports to the ``JobStatus`` of each block.

``job_state_table``: each scheduler prints its own state codes (Slurm ``PD``, PBS ``Q``,
HTCondor ``1``...); a provider lists them grouped by the ``JobState`` they stand for, which
reads like the scheduler's documentation and cannot map one code twice::

    TORQUE_STATES = job_state_table(PENDING="Q W T M", RUNNING="R B", ...)

``recorded_statuses``: what ``status(job_ids)`` returns once a provider has refreshed its
job records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from parsl.jobs.states import JobState, JobStatus

__all__ = ["job_state_table", "recorded_statuses"]


def job_state_table(**codes: str) -> dict[str, JobState]:
    """Map each whitespace-separated code to the ``JobState`` named by its keyword.

    Raises ValueError for a keyword that is not a ``JobState`` name or a code listed twice,
    so a typo fails when the provider module is imported.
    """
    table: dict[str, JobState] = {}
    for state_name, listed in codes.items():
        try:
            state = JobState[state_name]
        except KeyError:
            raise ValueError(
                f"job_state_table: {state_name!r} is not a JobState; use one of "
                f"{', '.join(s.name for s in JobState)}"
            ) from None
        for code in listed.split():
            if code in table:
                raise ValueError(
                    f"job_state_table: code {code!r} is listed as {table[code].name} and as {state_name}"
                )
            table[code] = state
    return table


def recorded_statuses(resources: Mapping[Any, Mapping[str, Any]], job_ids: Iterable[Any]) -> list[JobStatus]:
    """The ``'status'`` of each job's record; MISSING for an id the provider never made."""
    return [
        resources[jid]["status"]
        if jid in resources
        else JobStatus(JobState.MISSING, message=f"no block with job id {jid!r}")
        for jid in job_ids
    ]
