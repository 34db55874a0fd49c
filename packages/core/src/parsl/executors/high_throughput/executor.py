"""``parsl.executors.high_throughput.executor.HighThroughputExecutor`` (parsl-executor-htex)."""

from parsl._lazy import htex, lazy_module_getattr

__getattr__ = lazy_module_getattr(__name__, {"HighThroughputExecutor": htex("HighThroughputExecutor")})
