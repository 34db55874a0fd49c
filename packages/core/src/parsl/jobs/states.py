"""Job (block) states reported by execution providers, and the ``JobStatus`` record."""

from __future__ import annotations

import logging
import os
from enum import IntEnum

logger = logging.getLogger(__name__)

__all__ = ["TERMINAL_STATES", "JobState", "JobStatus"]


class JobState(IntEnum):
    """The state of one block (a batch job, a local process group, a cloud instance...)."""

    UNKNOWN = 0
    PENDING = 1
    RUNNING = 2
    CANCELLED = 3
    COMPLETED = 4
    FAILED = 5
    TIMEOUT = 6
    HELD = 7
    MISSING = 8
    SCALED_IN = 9

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change state."""
        return self in _TERMINAL

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


_TERMINAL = frozenset(
    {
        JobState.CANCELLED,
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.TIMEOUT,
        JobState.MISSING,
        JobState.SCALED_IN,
    }
)

TERMINAL_STATES: list[JobState] = [s for s in JobState if s.terminal]


class JobStatus:
    """A job state plus optional details: message, exit code and paths to its output files."""

    SUMMARY_TRUNCATION_THRESHOLD = 2048

    def __init__(
        self,
        state: JobState,
        message: str | None = None,
        exit_code: int | None = None,
        stdout_path: str | None = None,
        stderr_path: str | None = None,
    ):
        self.state = state
        self.message = message
        self.exit_code = exit_code
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def status_name(self) -> str:
        return self.state.name

    @property
    def stdout(self) -> str | None:
        """Whole content of the job's stdout file, or None if unknown or unreadable."""
        return _read_all(self.stdout_path)

    @property
    def stderr(self) -> str | None:
        """Whole content of the job's stderr file, or None if unknown or unreadable."""
        return _read_all(self.stderr_path)

    @property
    def stdout_summary(self) -> str | None:
        """Head and tail of stdout, at most about ``SUMMARY_TRUNCATION_THRESHOLD`` characters."""
        return _read_summary(self.stdout_path, self.SUMMARY_TRUNCATION_THRESHOLD)

    @property
    def stderr_summary(self) -> str | None:
        """Head and tail of stderr, at most about ``SUMMARY_TRUNCATION_THRESHOLD`` characters."""
        return _read_summary(self.stderr_path, self.SUMMARY_TRUNCATION_THRESHOLD)

    def __repr__(self) -> str:
        details = f"state={self.state}"
        if self.exit_code is not None:
            details += f" exit_code={self.exit_code}"
        if self.message is not None:
            details += f" message={self.message}"
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {hex(id(self))}, {details}>"

    def __str__(self) -> str:
        if self.message is not None:
            return f"{self.state} ({self.message})"
        return str(self.state)


def _read_all(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        logger.debug("Could not read job output file %s", path, exc_info=True)
        return None


def _read_summary(path: str | None, limit: int) -> str | None:
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(0)
            if size <= limit:
                return f.read().decode(errors="replace")
            half = limit // 2
            head = f.read(half)
            f.seek(size - half)
            tail = f.read(half)
    except OSError:
        # A job that never wrote anything may have no output file at all.
        return None
    return head.decode(errors="replace") + "\n...\n" + tail.decode(errors="replace")
