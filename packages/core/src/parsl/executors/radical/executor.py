"""``RadicalPilotExecutor``: importable, but building one says parslcore does not ship it."""

from __future__ import annotations

from typing import Any

from parsl.executors.base import ParslExecutor
from parsl.executors.not_shipped import NotShippedExecutor, Runtime

__all__ = ["RadicalPilotExecutor"]

RPEX = "RPEX"


class RadicalPilotExecutor(NotShippedExecutor, ParslExecutor):
    """Parsl's executor for RADICAL-Pilot; construction raises ExecutorNotShippedError.

    As in Parsl, a non-local ``resource`` without ``rpex_cfg`` is refused first (ValueError).
    """

    runtime = Runtime("RADICAL-Pilot", ("radical.pilot",), "pip install radical.pilot")
    label = RPEX

    def __init__(
        self,
        resource: str,
        label: str = RPEX,
        bulk_mode: bool = False,
        working_dir: str | None = None,
        rpex_cfg: Any = None,
        **rpex_pilot_kwargs: Any,
    ) -> None:
        if not rpex_cfg and "local" not in resource:
            raise ValueError(
                f"RadicalPilotExecutor(resource={resource!r}): a non-local resource needs "
                f"rpex_cfg=ResourceConfig(...)"
            )
        self._not_shipped()
