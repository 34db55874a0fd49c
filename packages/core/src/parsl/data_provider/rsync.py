"""rsync staging (provided by parsl-staging)."""

from parsl._lazy import lazy_module_getattr, staging

__getattr__ = lazy_module_getattr(__name__, {"RSyncStaging": staging("RSyncStaging")})
