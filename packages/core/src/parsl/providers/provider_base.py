"""Old import path (Parsl before 1.0) of ``ExecutionProvider``, ``JobState`` and ``JobStatus``."""

from __future__ import annotations

from parsl.jobs.states import JobState, JobStatus
from parsl.providers.base import ExecutionProvider

__all__ = ["ExecutionProvider", "JobState", "JobStatus"]
