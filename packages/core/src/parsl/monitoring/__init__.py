"""Monitoring (``parsl.monitoring.MonitoringHub``), provided by parsl-monitoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import lazy_module_getattr, monitoring

if TYPE_CHECKING:  # the class the name resolves to, for type checkers
    from parsl_monitoring.hub import MonitoringHub as MonitoringHub

__all__ = ["MonitoringHub"]

__getattr__ = lazy_module_getattr(__name__, {"MonitoringHub": monitoring("MonitoringHub")})
