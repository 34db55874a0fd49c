"""pytest plugin: run the executor conformance suite against an executor named on the command line.

Load it with ``-p parsl.testing`` (on the command line, in ``addopts``, or as
``pytest_plugins = ["parsl.testing"]`` in a ``conftest.py``) and name a callable that returns a
fresh executor::

    pytest -p parsl.testing --parsl-executor 'my_package:MyExecutor'

or in ``pyproject.toml``::

    [tool.pytest.ini_options]
    addopts = "-p parsl.testing"
    parsl_executor = "my_package.testing:make_executor"

Every :class:`~parsl.testing.ExecutorConformanceSuite` test is then added to the session as
``TestConfiguredExecutor``, beside whatever tests pytest collected; ``-k``, ``-x`` and the
other options apply as usual. Without ``--parsl-executor`` the plugin adds nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parsl.executors.base import ParslExecutor
from parsl.testing.conformance import ExecutorConformanceSuite

__all__ = ["TestConfiguredExecutor", "load_factory", "pytest_addoption", "pytest_collection_modifyitems"]

OPTION = "--parsl-executor"
INI = "parsl_executor"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parsl", "Parsl executor conformance")
    group.addoption(
        OPTION,
        dest="parsl_executor",
        default=None,
        metavar="MODULE:CALLABLE",
        help="run parsl.testing's executor conformance suite against the executor "
        "that CALLABLE() returns, e.g. my_package:MyExecutor",
    )
    parser.addini(
        INI,
        "MODULE:CALLABLE returning the executor for the conformance suite (as --parsl-executor)",
        default="",
    )


def load_factory(spec: str) -> Callable[[], ParslExecutor]:
    """Resolve ``'module:callable'`` (or ``'module.callable'``), raising UsageError with the fix."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise pytest.UsageError(f"{OPTION}={spec!r}: use MODULE:CALLABLE, e.g. my_package:MyExecutor")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as e:
        raise pytest.UsageError(f"{OPTION}={spec!r}: cannot load it ({type(e).__name__}: {e})") from e
    if not callable(target):
        raise pytest.UsageError(
            f"{OPTION}={spec!r} is not callable: name a class or a function that returns a new executor"
        )
    return target


class TestConfiguredExecutor(ExecutorConformanceSuite):
    """The conformance suite against the executor named by ``--parsl-executor``."""

    factory: Callable[[], ParslExecutor] | None = None

    def make_executor(self) -> ParslExecutor:
        if self.factory is None:
            pytest.skip(f"no executor named: pass {OPTION} MODULE:CALLABLE")
        executor = type(self).factory()  # type: ignore[misc]
        if not isinstance(executor, ParslExecutor):
            raise TypeError(f"{OPTION} returned {executor!r}, not a parsl.executors.base.ParslExecutor")
        return executor


class _ThisModule(pytest.Module):
    """This module as a test module, taken from ``sys.modules`` rather than imported again by path
    (a second copy would define the suite's apps under a name worker processes cannot import)."""

    def _getobj(self) -> Any:
        return sys.modules[__name__]


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, which must see these tests too
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    spec = config.getoption("parsl_executor") or config.getini(INI)
    if not spec:
        return
    TestConfiguredExecutor.factory = staticmethod(load_factory(spec))  # type: ignore[assignment]
    module = _ThisModule.from_parent(session, path=Path(__file__), nodeid="parsl.testing")
    items.extend(session.genitems(module))
