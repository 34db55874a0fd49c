"""HTEX error classes at their Parsl paths (parsl-executor-htex)."""

from parsl._lazy import htex, lazy_module_getattr

__getattr__ = lazy_module_getattr(
    __name__,
    {
        n: htex(n)
        for n in (
            "WorkerLost",
            "ManagerLost",
            "VersionMismatch",
            "CommandClientTimeoutError",
            "CommandClientBadError",
        )
    },
)
