"""``job_state_table``: how a provider writes down which scheduler states mean which ``JobState``.

Each scheduler prints its own state codes (Slurm ``PD``, PBS ``Q``, HTCondor ``1``...). A
provider lists them grouped by the ``JobState`` they stand for, which reads like the
scheduler's documentation and cannot map one code twice::

    TORQUE_STATES = job_state_table(PENDING="Q W T M", RUNNING="R B", ...)
"""

from __future__ import annotations

from parsl.jobs.states import JobState

__all__ = ["job_state_table"]


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
