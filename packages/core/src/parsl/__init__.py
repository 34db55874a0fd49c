"""Parsl: parallel scripting in Python (parslcore, the fast plugin-based kernel).

Decorate functions with :func:`python_app`, :func:`bash_app` or :func:`join_app`, load a
:class:`Config` with :func:`load`, and call the apps to get futures.
"""

from __future__ import annotations

import threading as _threading
from typing import TYPE_CHECKING

# CPython 3.11+ keeps an object's attributes inline, without a dict, while its class's shared
# key table has room, and every new instance shrinks that room. Events and queues make
# Lock-based Conditions (4 attributes); a Future's Condition is RLock-based (3 more). When some
# 25 of the former come first (threads, queues, a subprocess), every later Future's Condition
# gets a dict of its own: one more object for the garbage collector to walk and ~300 bytes per
# task. One RLock-based Condition made at import adds those keys while there is room.
_threading.Condition()

from parsl._coexist import check_at_import as _check_install  # noqa: E402
from parsl.version import VERSION  # noqa: E402

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
