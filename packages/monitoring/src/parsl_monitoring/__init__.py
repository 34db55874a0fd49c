"""parsl-monitoring: Parsl's monitoring for parslcore.

``from parsl.monitoring import MonitoringHub`` resolves here when this package is installed
(``pip install 'parslcore[monitoring]'``). The hub records workflows in a database
(:mod:`parsl_monitoring.db`), and ``parsl-visualize`` (extra ``visualize``) shows them.
"""

from __future__ import annotations

from typing import Any

__version__ = "2026.11.21"

__all__ = ["MonitoringHub"]


def __getattr__(name: str) -> Any:
    # Lazy: workers import this package to run monitored tasks and need none of the hub.
    if name == "MonitoringHub":
        from parsl_monitoring.hub import MonitoringHub

        globals()[name] = MonitoringHub
        return MonitoringHub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
