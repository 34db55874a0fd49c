"""Launchers wrap a worker command so that a block starts the right number of copies.

``SimpleLauncher`` and ``SingleNodeLauncher`` are built in; ``SrunLauncher``,
``MpiExecLauncher`` and the other scheduler launchers come from the optional
``parsl-providers`` package (``pip install 'parslcore[providers]'``).
"""

from __future__ import annotations

from parsl._lazy import lazy_module_getattr
from parsl.launchers.base import Launcher
from parsl.launchers.launchers import OPTIONAL_LAUNCHERS, SimpleLauncher, SingleNodeLauncher

__all__ = ["Launcher", "SimpleLauncher", "SingleNodeLauncher"]

__getattr__ = lazy_module_getattr(__name__, OPTIONAL_LAUNCHERS, plugin_kind="launchers")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(OPTIONAL_LAUNCHERS))
