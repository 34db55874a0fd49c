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


@pytest.mark.parametrize("strategy", ["none", "simple", "htex_auto_scale"])
def test_strategy_passes_after_load_launch_no_second_set(tmp_path, strategy):
    ex = SleepBlocks(LocalProvider(init_blocks=2, min_blocks=0, max_blocks=4))
    with parsl.load(
        Config(executors=[ex], run_dir=str(tmp_path), strategy=strategy, strategy_period=3600)
    ) as dfk:
        for _ in range(3):
            dfk.job_status_poller.poll()
        assert sorted(ex.status()) == ["0", "1"]


def _engine_style(tmp_path, ex):
    ex.run_dir = str(tmp_path)
    ex.run_id = "engine-run"
    ex.provider.script_dir = str(tmp_path)
    ex.start()


@pytest.mark.parametrize("strategy", ["none", "simple"])
def test_job_status_poller_without_a_kernel_launches_init_blocks_on_its_first_pass(tmp_path, strategy):
    from parsl.jobs.job_status_poller import JobStatusPoller

    ex = SleepBlocks(LocalProvider(init_blocks=2, min_blocks=0, max_blocks=4))
    _engine_style(tmp_path, ex)
    poller = JobStatusPoller(strategy=strategy, max_idletime=60, strategy_period=3600)
    try:
        poller.add_executors([ex])
        assert ex.status() == {}
        poller.poll()
        assert sorted(ex.status()) == ["0", "1"]
        poller.poll()
        assert sorted(ex.status()) == ["0", "1"]
    finally:
        poller.close()
        ex.shutdown()


def test_job_status_poller_leaves_blocks_the_engine_launched_itself(tmp_path):
    from parsl.jobs.job_status_poller import JobStatusPoller

    ex = SleepBlocks(LocalProvider(init_blocks=1, min_blocks=0, max_blocks=4))
    _engine_style(tmp_path, ex)
    ex.scale_out_facade(ex.provider.init_blocks)
    poller = JobStatusPoller(strategy="none", max_idletime=60, strategy_period=3600)
    try:
        poller.add_executors([ex])
        poller.poll()
        assert sorted(ex.status()) == ["0"]
    finally:
        poller.close()
        ex.shutdown()


def test_provider_is_a_class_level_property_for_spec_mocks():
    from unittest import mock

    assert isinstance(BlockProviderExecutor.__dict__["provider"], property)
    fake = mock.Mock(spec=SleepBlocks)
    fake.provider.init_blocks = 3  # spec'd mocks only allow attributes the class has
