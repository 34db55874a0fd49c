"""Old import path of ``MonitoringHub`` (provided by parsl-monitoring)."""

from parsl._lazy import lazy_module_getattr, monitoring

__getattr__ = lazy_module_getattr(__name__, {"MonitoringHub": monitoring("MonitoringHub")})
