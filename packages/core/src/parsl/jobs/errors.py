"""Errors about jobs (blocks): ``TooManyJobFailuresError`` (``parsl.jobs.errors``)."""

from __future__ import annotations

from parsl.errors import ParslError
from parsl.executors.errors import BadStateException

__all__ = ["TooManyBlockFailuresError", "TooManyJobFailuresError"]


class TooManyJobFailuresError(ParslError):
    """An executor gave up because too many of its blocks failed; the message describes them."""


class TooManyBlockFailuresError(BadStateException, TooManyJobFailuresError):
    """What the builtin block error handlers put an executor in a bad state with.

    Both a ``BadStateException`` (what tasks of a broken executor fail with) and a
    ``TooManyJobFailuresError`` (what Parsl's handlers raise), so either ``except`` catches it.
    """

    def __init__(self, executor: object, reason: str) -> None:
        BadStateException.__init__(self, executor, reason)
