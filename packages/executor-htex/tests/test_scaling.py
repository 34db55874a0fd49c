"""Elastic scaling with LocalProvider: a burst grows to max_blocks, idleness shrinks to min_blocks."""

from __future__ import annotations

import time

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor


@python_app
def nap(t):
    import time

    time.sleep(t)
    return t


@pytest.mark.slow
def test_burst_scales_out_then_idle_scales_in(tmp_path, htex_tools):
    before = htex_tools.processes()
    ex = HighThroughputExecutor(
        label="htex",
        max_workers_per_node=1,
        encrypted=False,
        provider=LocalProvider(init_blocks=0, min_blocks=0, max_blocks=2),
    )
    cfg = Config(
        executors=[ex],
        run_dir=str(tmp_path / "runinfo"),
        strategy="simple",
        strategy_period=0.2,
        max_idletime=1,
    )
    with parsl.load(cfg):
        futures = [nap(1.0) for _ in range(4)]
        assert [f.result(timeout=60) for f in futures] == [1.0] * 4
        assert len(ex.blocks_to_job_id) == 2
        deadline = time.monotonic() + 20
        while ex.status_facade_counts() > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ex.status_facade_counts() == 0
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)
