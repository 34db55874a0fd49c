"""Test helpers for plugin authors: the executor conformance suite.

Subclass :class:`ExecutorConformanceSuite` in your own test file and implement
``make_executor()``; pytest then runs every conformance test against your executor::

    from parsl.testing import ExecutorConformanceSuite
    from my_package import MyExecutor

    class TestMyExecutor(ExecutorConformanceSuite):
        def make_executor(self):
            return MyExecutor(label="conformance")
"""
from __future__ import annotations

from parsl.testing.conformance import ExecutorConformanceSuite

__all__ = ["ExecutorConformanceSuite"]
