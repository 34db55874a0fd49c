"""The scaling strategy and job status poller read and call what Parsl's do: ``status_facade``
(RUNNING and PENDING blocks are active), ``outstanding`` as an int or a method, the first pass
launches ``init_blocks`` and then sizes the executor in the same pass; ``close()`` scales in
every live block; the poller's ``callback`` can be replaced. Executors here are real
``BlockProviderExecutor`` subclasses over a real LocalProvider, or a plain recording object."""

from __future__ import annotations

import threading

import pytest

from parsl.executors.errors import BadStateException
from parsl.executors.status_handling import BlockProviderExecutor
from parsl.jobs.job_status_poller import JobStatusPoller
from parsl.jobs.states import JobState, JobStatus
from parsl.jobs.strategy import Strategy
from parsl.providers import LocalProvider


class Sleepers(BlockProviderExecutor):
    """Blocks run ``sleep``; ``load`` is what ``outstanding`` reports."""

    def __init__(self, provider, workers=1, label="sleepers"):
        super().__init__(provider=provider, label=label)
        self.load = 0
        self._workers = workers
        self.failed_with: list[BaseException] = []

    def start(self):
        pass

    def submit(self, func, resource_specification, *args, **kwargs):
        raise NotImplementedError("this executor only holds blocks")

    def shutdown(self):
        self._cancel_all_blocks()

    def _get_launch_command(self, block_id):
        return "sleep 60"

    def _fail_all(self, exception):
        self.failed_with.append(exception)

    @property
    def outstanding(self):
        return self.load

    @property
    def workers_per_node(self):
        return self._workers


class Recorder:
    """Has exactly the attributes Parsl's strategy reads; ``outstanding`` is a method, as in Parsl."""

    def __init__(self, tasks, workers, init_blocks=0, max_blocks=20):
        self.label = "recorder"
        self.tasks = tasks
        self.workers_per_node = workers
        self.bad_state_is_set = False
        self.status_facade: dict[str, JobStatus] = {}
        self.provider = LocalProvider(
            init_blocks=init_blocks, min_blocks=0, max_blocks=max_blocks, parallelism=1
        )

    def outstanding(self):
        return self.tasks

    def scale_out_facade(self, n):
        for _ in range(n):
            self.status_facade[str(len(self.status_facade))] = JobStatus(JobState.PENDING)
        return []

    def scale_in_facade(self, n, max_idletime=None):
        for status in self.status_facade.values():
            if n and status.state == JobState.PENDING:
                status.state = JobState.CANCELLED
                n -= 1
        return []


def pending(ex):
    return sum(1 for s in ex.status_facade.values() if s.state == JobState.PENDING)


@pytest.mark.parametrize("tasks, workers, blocks", [(14, 48, 1), (1, 1, 1), (49, 48, 2), (100, 1, 20)])
def test_first_pass_sizes_to_load_and_stays(tasks, workers, blocks):
    ex = Recorder(tasks, workers)
    s = Strategy(strategy="simple", max_idletime=0)
    s.add_executors([ex])
    s.strategize([ex])
    assert pending(ex) == blocks
    s.strategize([ex])
    assert pending(ex) == blocks and len(ex.status_facade) == blocks
    ex.tasks = 0
    s.strategize([ex])
    assert pending(ex) == 0


def test_strategy_none_launches_only_init_blocks():
    ex = Recorder(tasks=50, workers=1, init_blocks=2)
    s = Strategy(strategy="none", max_idletime=0)
    s.add_executors([ex])
    s.strategize([ex])
    s.strategize([ex])
    assert len(ex.status_facade) == 2


def test_strategy_none_deprecated_as_literal_none():
    with pytest.warns(DeprecationWarning, match="strategy='none'"):
        Strategy(strategy=None, max_idletime=0)
    with pytest.raises(ValueError, match="htex_auto_scale"):
        Strategy(strategy="fastest", max_idletime=0)


def test_status_facade_is_the_live_block_table(tmp_path):
    ex = Sleepers(LocalProvider(init_blocks=0, max_blocks=3))
    ex.provider.script_dir = str(tmp_path)
    ex.run_dir = str(tmp_path)
    try:
        ids = ex.scale_out_facade(2)
        assert ex.status_facade is ex.status_facade and sorted(ex.status_facade) == ids
        assert all(s.state == JobState.PENDING for s in ex.status_facade.values())
        blocks, jobs = ex._get_block_and_job_ids()
        assert blocks == ids and jobs == [ex.blocks_to_job_id[b] for b in ids]
        # status() asks the provider now: the sleeping blocks are running
        assert all(s.state == JobState.RUNNING for s in ex.status().values())
    finally:
        ex.shutdown()


def test_bad_state_event_and_tasks_fail_with_bad_state_exception():
    ex = Sleepers(LocalProvider())
    assert not ex._executor_bad_state.is_set() and not ex.bad_state_is_set
    cause = RuntimeError("every block died")
    ex.set_bad_state_and_fail_all(cause)
    assert ex._executor_bad_state.is_set() and ex.bad_state_is_set
    assert ex.executor_exception is cause
    assert isinstance(ex.failed_with[0], BadStateException) and "every block died" in str(ex.failed_with[0])


def test_poller_close_scales_in_live_blocks_and_callback_is_replaceable(tmp_path):
    provider = LocalProvider(init_blocks=2, max_blocks=2)
    provider.script_dir = str(tmp_path)
    ex = Sleepers(provider)
    poller = JobStatusPoller(strategy="none", strategy_period=0.05, max_idletime=0)
    ticked = threading.Event()
    try:
        poller.add_executors([ex])
        original = poller.callback

        def hook():
            original()
            ticked.set()

        poller.callback = hook
        assert ticked.wait(30), "the replaced callback never ran"
        assert len(ex.blocks_to_job_id) == 2  # the first pass launched init_blocks
    finally:
        poller.close()
    assert sorted(b for b, s in ex.status_facade.items() if s.state == JobState.SCALED_IN) == ["0", "1"]
    ex.shutdown()


def test_poller_close_leaves_a_bad_executor_alone(tmp_path):
    provider = LocalProvider(init_blocks=1, max_blocks=1)
    provider.script_dir = str(tmp_path)
    ex = Sleepers(provider)
    ex.scale_out_facade(1)
    poller = JobStatusPoller(strategy="none", strategy_period=60, max_idletime=0)
    poller.add_executors([ex])
    ex.set_bad_state_and_fail_all(RuntimeError("broken"))
    poller.close()
    assert ex.status_facade["0"].state == JobState.PENDING
    ex.shutdown()
