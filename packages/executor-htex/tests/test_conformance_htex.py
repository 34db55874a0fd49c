"""HighThroughputExecutor passes the executor conformance suite, lifecycle part included."""

from __future__ import annotations

import pytest

from parsl.providers import LocalProvider
from parsl.testing import ExecutorConformanceSuite, ExecutorLifecycleSuite, start_like_a_dfk
from parsl_executor_htex import HighThroughputExecutor


class TestHighThroughputConformance(ExecutorConformanceSuite):
    def make_executor(self):
        return HighThroughputExecutor(
            label="conformance", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
        )


class _StartLaunchesBlocks(HighThroughputExecutor):
    """What HighThroughputExecutor.start() used to do: launch init_blocks itself."""

    def start(self):
        super().start()
        self.scale_out_facade(self.provider.init_blocks)


def test_two_initial_blocks_without_dfk_give_two_pools(tmp_path):
    ex = HighThroughputExecutor(
        label="two_blocks", max_workers_per_node=1, provider=LocalProvider(init_blocks=2, max_blocks=2)
    )
    suite = ExecutorLifecycleSuite()
    try:
        assert start_like_a_dfk(ex, str(tmp_path / "runinfo")) == ["0", "1"]
        assert sorted(ex.status()) == ["0", "1"]
        managers = suite.wait_for_blocks_to_connect(ex)
        assert sorted(str(m["block_id"]) for m in managers) == ["0", "1"]
        assert all(m["worker_count"] == 1 for m in managers)
    finally:
        ex.shutdown()


def test_an_executor_whose_start_launches_blocks_fails_the_lifecycle_checks(tmp_path):
    ex = _StartLaunchesBlocks(
        label="double", max_workers_per_node=1, provider=LocalProvider(init_blocks=1, max_blocks=1)
    )
    suite = ExecutorLifecycleSuite()
    try:
        start_like_a_dfk(ex, str(tmp_path / "runinfo"))
        with pytest.raises(AssertionError, match="init_blocks=1 but 2 blocks were launched"):
            suite._check_blocks(ex)
        with pytest.raises(AssertionError):
            suite._check_managers(ex)
    finally:
        ex.shutdown()
