"""Parsl: parallel scripting in Python (parslcore, the fast plugin-based kernel).

Decorate functions with :func:`python_app`, :func:`bash_app` or :func:`join_app`, load a
:class:`Config` with :func:`load`, and call the apps to get futures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._coexist import check_at_import as _check_install
from parsl.version import VERSION

_check_install(__path__[0], VERSION)  # upstream parsl in the same site-packages: say so, do not mix
del _check_install

# The imports below come after the check on purpose: a mixed install fails in them otherwise.
from parsl._lazy import htex, lazy_module_getattr  # noqa: E402
from parsl.app.app import bash_app, join_app, python_app  # noqa: E402
from parsl.config import Config  # noqa: E402
from parsl.data_provider.files import File  # noqa: E402
from parsl.dataflow.dflow import DataFlowKernel, DataFlowKernelLoader  # noqa: E402
from parsl.executors.threads import ThreadPoolExecutor  # noqa: E402
from parsl.log_utils import set_file_logger, set_stream_logger  # noqa: E402
from parsl.plugins import hookimpl  # noqa: E402

if TYPE_CHECKING:
    # resolved on first use by __getattr__ below, from the optional parsl-executor-htex
    from parsl_executor_htex.executor import HighThroughputExecutor

__version__ = VERSION

#: pass as ``stdout=``/``stderr=`` to have Parsl choose a file under the run directory
AUTO_LOGNAME = 1

__all__ = [
    "AUTO_LOGNAME",
    "Config",
    "DataFlowKernel",
    "DataFlowKernelLoader",
    "File",
    "HighThroughputExecutor",
    "ThreadPoolExecutor",
    "__version__",
    "bash_app",
    "clear",
    "dfk",
    "hookimpl",
    "join_app",
    "load",
    "python_app",
    "set_file_logger",
    "set_stream_logger",
    "wait_for_current_tasks",
]

load = DataFlowKernelLoader.load
clear = DataFlowKernelLoader.clear
wait_for_current_tasks = DataFlowKernelLoader.wait_for_current_tasks
dfk = DataFlowKernelLoader.dfk

__getattr__ = lazy_module_getattr(__name__, {"HighThroughputExecutor": htex("HighThroughputExecutor")})


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
