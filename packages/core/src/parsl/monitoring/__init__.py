"""Monitoring (``parsl.monitoring.MonitoringHub``), provided by parsl-monitoring."""

from parsl._lazy import lazy_module_getattr, monitoring

__all__ = ["MonitoringHub"]

__getattr__ = lazy_module_getattr(__name__, {"MonitoringHub": monitoring("MonitoringHub")})
