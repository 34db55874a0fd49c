"""``parsl.executors.radical``: Parsl's RADICAL-Pilot executor (not shipped by parslcore)."""

from __future__ import annotations

from parsl.executors.radical.executor import RadicalPilotExecutor
from parsl.executors.radical.rpex_resources import ResourceConfig

__all__ = ["RadicalPilotExecutor", "ResourceConfig"]
