"""Test helpers for plugin authors: the executor conformance suite.

Subclass :class:`ExecutorConformanceSuite` in your own test file and implement
``make_executor()``; pytest then runs every conformance test against your executor::

    from parsl.testing import ExecutorConformanceSuite
    from my_package import MyExecutor

    class TestMyExecutor(ExecutorConformanceSuite):
        def make_executor(self):
            return MyExecutor(label="conformance")

Or, with no test file at all, load this package as a pytest plugin and name the executor::

    pytest -p parsl.testing --parsl-executor 'my_package:MyExecutor'
"""

from __future__ import annotations

from parsl.testing.conformance import ExecutorConformanceSuite
from parsl.testing.lifecycle import ExecutorLifecycleSuite, start_like_a_dfk

# pytest hooks, so that `pytest -p parsl.testing` loads the plugin (see parsl.testing.pytest_plugin)
from parsl.testing.pytest_plugin import pytest_addoption, pytest_collection_modifyitems  # noqa: F401

__all__ = ["ExecutorConformanceSuite", "ExecutorLifecycleSuite", "start_like_a_dfk"]
