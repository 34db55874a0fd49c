"""SubprocessExecutor passes parsl.testing's executor conformance suite."""

from __future__ import annotations

from parsl.testing import ExecutorConformanceSuite
from parsl_example_executor import SubprocessExecutor


class TestSubprocessExecutorConformance(ExecutorConformanceSuite):
    def make_executor(self):
        return SubprocessExecutor(label="conformance", workers=2)
