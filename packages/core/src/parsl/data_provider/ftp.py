"""FTP staging (provided by parsl-staging)."""

from parsl._lazy import lazy_module_getattr, staging

__getattr__ = lazy_module_getattr(
    __name__, {n: staging(n) for n in ("FTPSeparateTaskStaging", "FTPInTaskStaging")}
)
