"""ThreadPoolExecutor passes the executor conformance suite."""

from __future__ import annotations

from parsl.executors import ThreadPoolExecutor
from parsl.testing import ExecutorConformanceSuite


class TestThreadPoolConformance(ExecutorConformanceSuite):
    def make_executor(self):
        return ThreadPoolExecutor(label="conformance", max_threads=4)
