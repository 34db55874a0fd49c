"""Job-level machinery shared by executors and providers: job states and statuses."""

from __future__ import annotations

from parsl.jobs.states import TERMINAL_STATES, JobState, JobStatus

__all__ = ["TERMINAL_STATES", "JobState", "JobStatus"]
