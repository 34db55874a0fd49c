"""Globus staging (provided by parsl-staging[globus])."""

from parsl._lazy import lazy_module_getattr, staging

__getattr__ = lazy_module_getattr(
    __name__, {n: staging(n, "globus") for n in ("GlobusStaging", "Globus", "get_globus", "cli_run")}
)
