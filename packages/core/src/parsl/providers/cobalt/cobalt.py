"""Old import path ``parsl.providers.cobalt.cobalt``.

``CobaltProvider`` is loaded lazily from the optional ``parsl-providers`` package.
"""

from __future__ import annotations

from parsl._lazy import lazy_module_getattr
from parsl.providers import OPTIONAL_PROVIDERS

__all__: list[str] = []

__getattr__ = lazy_module_getattr(__name__, {"CobaltProvider": OPTIONAL_PROVIDERS["CobaltProvider"]})
