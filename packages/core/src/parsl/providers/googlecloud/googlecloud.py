"""Old import path ``parsl.providers.googlecloud.googlecloud``.

``GoogleCloudProvider`` is loaded lazily from the optional ``parsl-providers`` package.
"""

from __future__ import annotations

from parsl._lazy import lazy_module_getattr
from parsl.providers import OPTIONAL_PROVIDERS

__all__: list[str] = []

__getattr__ = lazy_module_getattr(
    __name__, {"GoogleCloudProvider": OPTIONAL_PROVIDERS["GoogleCloudProvider"]}
)
