"""Old import path ``parsl.providers.kubernetes.kube`` of ``KubernetesProvider``.

With ``parsl-providers`` installed this module *is* ``parsl_providers.kubernetes.provider``
(it puts that module in its place in ``sys.modules``), so what Parsl's tests and users patch
here (``config``, ``client``, ``logger``, ``KubernetesProvider._create_pod``) is what the
provider uses. Without it, ``KubernetesProvider`` raises ImportError naming the extra to install.
"""

from __future__ import annotations

import importlib
import sys

from parsl._lazy import lazy_module_getattr
from parsl.providers import OPTIONAL_PROVIDERS

__all__: list[str] = []

try:
    _provider = importlib.import_module("parsl_providers.kubernetes.provider")
except ModuleNotFoundError as e:
    if not (e.name or "").startswith("parsl_providers"):
        raise
    __getattr__ = lazy_module_getattr(
        __name__, {"KubernetesProvider": OPTIONAL_PROVIDERS["KubernetesProvider"]}
    )
else:
    sys.modules[__name__] = _provider
