"""``parsl.executors.flux``: Parsl's Flux executor (not shipped by parslcore)."""

from __future__ import annotations

from collections import namedtuple

__all__ = ["TaskResult"]

#: what a Flux task leaves behind in Parsl: its return value or its exception
TaskResult = namedtuple("TaskResult", ("returnval", "exception"))
