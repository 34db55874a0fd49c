"""pytest plugin for ``scripts/upstream_suite.sh``: stop one failed test module failing all the rest.

In Parsl's ``--config local`` mode every module loads its own DataFlowKernel. A test that fails
between its own ``parsl.load()`` and its ``cleanup()`` leaves that kernel loaded, and every later
module then fails in setup with "Config has already been loaded" whatever its own merit. After
each module this plugin cleans up and unloads any kernel still loaded, reports the module as a
warning and in a terminal summary section, and changes nothing else: a module that passes never
leaves a kernel behind (Parsl's own conftest asserts it), so pass counts are unaffected.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["unload_leaked_kernel"]

_LEAKS: list[str] = []


def _local_mode(config: pytest.Config) -> bool:
    try:
        return config.getoption("config")[0] == "local"
    except (ValueError, TypeError, IndexError):
        return False


@pytest.fixture(autouse=True, scope="module")
def unload_leaked_kernel(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a module in local mode: clean up and unload a kernel its tests left loaded."""
    yield
    if not _local_mode(request.config):
        return
    from parsl.dataflow.dflow import DataFlowKernelLoader

    leaked: Any = DataFlowKernelLoader._dfk
    if leaked is None:
        return
    where = request.module.__name__
    _LEAKS.append(where)
    warnings.warn(f"{where} left a DataFlowKernel loaded; upstream_suite_guard cleaned it up", stacklevel=1)
    try:
        if not getattr(leaked, "cleanup_called", False):
            leaked.cleanup()
    except Exception as e:  # the module's failure is already reported; keep the session going
        warnings.warn(f"cleanup of the kernel {where} left loaded failed: {e!r}", stacklevel=1)
    finally:
        DataFlowKernelLoader.clear()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the modules whose kernel the guard had to unload."""
    if _LEAKS:
        terminalreporter.section("kernels left loaded (unloaded by upstream_suite_guard)")
        for where in _LEAKS:
            terminalreporter.write_line(where)
