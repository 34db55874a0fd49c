"""``parsl.executors.flux``: Parsl's Flux executor (not shipped by parslcore)."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["TaskResult"]


class TaskResult(NamedTuple):
    """What a Flux task leaves behind in Parsl: its return value or its exception."""

    returnval: Any
    exception: BaseException | None
