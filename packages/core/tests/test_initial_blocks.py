"""The DataFlowKernel, not an executor's start(), launches the provider's init_blocks."""
from __future__ import annotations

import pytest

import parsl
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.executors.errors import ScalingFailed
from parsl.executors.status_handling import BlockProviderExecutor
from parsl.providers import LocalProvider


class SleepBlocks(BlockProviderExecutor):
    """Each block runs ``sleep``; records what was called, in order."""

    def __init__(self, provider, label="sleepers"):
        super().__init__(provider=provider, label=label)
        self.calls: list[str] = []

    def start(self):
        self.calls.append(f"start:{len(self.blocks_to_job_id)}")

    def submit(self, func, resource_specification, *args, **kwargs):
        raise NotImplementedError("this executor only holds blocks")

    def shutdown(self):
        self.calls.append("shutdown")
        self._cancel_all_blocks()

    def _get_launch_command(self, block_id):
        return "sleep 60"

    @property
    def outstanding(self):
        return 0

    @property
    def workers_per_node(self):
        return 1


class RefusingLocalProvider(LocalProvider):
    """A LocalProvider whose batch system refuses every job (fails submit for real)."""

    def submit(self, command, tasks_per_node, job_name="parsl.localprovider"):
        raise RuntimeError("the queue refused the job")


@pytest.mark.parametrize("init_blocks", [0, 1, 2])
def test_load_launches_init_blocks_after_start(tmp_path, init_blocks):
    ex = SleepBlocks(LocalProvider(init_blocks=init_blocks, max_blocks=2))
    with parsl.load(Config(executors=[ex], run_dir=str(tmp_path), strategy="none")):
        assert ex.calls == ["start:0"]  # no blocks existed when start() ran
        assert sorted(ex.status()) == [str(i) for i in range(init_blocks)]
        assert len(ex.provider.resources) == init_blocks
        assert ex.provider.script_dir is not None
    assert ex.calls == ["start:0", "shutdown"]
    assert all(s.terminal for s in ex.status().values())


def test_add_executors_after_load_launches_their_init_blocks_too(tmp_path):
    late = SleepBlocks(LocalProvider(init_blocks=1, max_blocks=1), label="late")
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path), strategy="none")) as dfk:
        dfk.add_executors([late])
        assert sorted(late.status()) == ["0"]


def test_initial_blocks_that_cannot_launch_fail_load_and_stop_the_executor_refusing_provider(tmp_path):
    ex = SleepBlocks(RefusingLocalProvider(init_blocks=1, max_blocks=1))
    with pytest.raises(ScalingFailed, match="the queue refused the job"):
        parsl.load(Config(executors=[ex], run_dir=str(tmp_path), strategy="none"))
    assert ex.calls == ["start:0", "shutdown"]
    parsl.clear()
