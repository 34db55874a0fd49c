"""Launchers wrap a worker command so that a block starts the right number of copies.

``SimpleLauncher`` and ``SingleNodeLauncher`` are built in; ``SrunLauncher``,
``MpiExecLauncher`` and the other scheduler launchers come from the optional
``parsl-providers`` package (``pip install 'parslcore[providers]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import lazy_module_getattr
from parsl.launchers.base import Launcher
from parsl.launchers.launchers import OPTIONAL_LAUNCHERS, SimpleLauncher, SingleNodeLauncher

if TYPE_CHECKING:  # the classes the optional names resolve to, for type checkers
    from parsl_providers.launchers import AprunLauncher as AprunLauncher
    from parsl_providers.launchers import GnuParallelLauncher as GnuParallelLauncher
    from parsl_providers.launchers import JsrunLauncher as JsrunLauncher
    from parsl_providers.launchers import MpiExecLauncher as MpiExecLauncher
    from parsl_providers.launchers import MpiRunLauncher as MpiRunLauncher
    from parsl_providers.launchers import SrunLauncher as SrunLauncher
    from parsl_providers.launchers import SrunMPILauncher as SrunMPILauncher
    from parsl_providers.launchers import WrappedLauncher as WrappedLauncher

__all__ = ["Launcher", "SimpleLauncher", "SingleNodeLauncher"]

__getattr__ = lazy_module_getattr(__name__, OPTIONAL_LAUNCHERS, plugin_kind="launchers")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(OPTIONAL_LAUNCHERS))
