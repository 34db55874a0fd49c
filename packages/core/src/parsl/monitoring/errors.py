"""Monitoring errors (``parsl.monitoring.errors``), with Parsl's names and messages.

parslcore's monitoring hub receives worker messages without Parsl's routers and radios
(see docs/compatibility.md), so it raises neither; they exist so that code catching them,
or raising them from its own radio, imports and behaves as with Parsl.
"""

from __future__ import annotations

from parsl.errors import ParslError

__all__ = ["MonitoringRouterStartError", "RadioRequiredError"]


class MonitoringRouterStartError(ParslError):
    """A monitoring router (the receiver of worker messages) did not start."""

    def __str__(self) -> str:
        return "Monitoring router failed to start"


class RadioRequiredError(ParslError):
    """Resource monitoring is on, but the executor running the task has no monitoring radio."""

    def __str__(self) -> str:
        return "A radio must be configured for remote task monitoring"
