"""HighThroughputExecutor passes the executor conformance suite."""
from __future__ import annotations

from parsl.providers import LocalProvider
from parsl.testing import ExecutorConformanceSuite
from parsl_executor_htex import HighThroughputExecutor


class TestHighThroughputConformance(ExecutorConformanceSuite):
    def make_executor(self):
        return HighThroughputExecutor(label="conformance", max_workers_per_node=2,
                                      provider=LocalProvider(init_blocks=1, max_blocks=1))
