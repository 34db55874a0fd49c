"""Block error handlers (``parsl.jobs.error_handlers``) on a BlockProviderExecutor whose blocks
are real LocalProvider processes: failing blocks trip simple/windowed handlers, never noop."""

from __future__ import annotations

import functools
import time
from concurrent.futures import Future

import pytest

import parsl
from parsl.config import Config
from parsl.executors.errors import BadStateException
from parsl.executors.status_handling import BlockProviderExecutor
from parsl.jobs.error_handlers import noop_error_handler, simple_error_handler, windowed_error_handler
from parsl.jobs.errors import TooManyJobFailuresError
from parsl.jobs.states import JobState, JobStatus
from parsl.launchers import SimpleLauncher
from parsl.providers import LocalProvider

WAIT = 60  # seconds a block process may take to start and exit on a loaded machine


class QuickLocalProvider(LocalProvider):
    """A LocalProvider polled often, so a test sees block exits quickly; the block's exit code
    is its command's (SimpleLauncher)."""

    def __init__(self, **kw):
        super().__init__(launcher=SimpleLauncher(), **kw)

    @property
    def status_polling_interval(self) -> float:
        return 0.05


class BlockRunner(BlockProviderExecutor):
    """Runs ``commands[block_id]`` (default ``default``) as each block; holds submitted tasks
    until the executor gives up, then fails them with its error."""

    def __init__(self, provider, block_error_handler=True, default="exit 3", commands=None, label="blocks"):
        super().__init__(provider=provider, block_error_handler=block_error_handler, label=label)
        self.default = default
        self.commands = commands or {}
        self.futures: list[Future] = []

    def start(self):  # the DataFlowKernel launches the provider's init_blocks itself
        self.provider.script_dir = self.run_dir

    def submit(self, func, resource_specification, *args, **kwargs):
        if self.bad_state_is_set:
            raise self.executor_exception
        fut: Future = Future()
        self.futures.append(fut)
        return fut

    def shutdown(self):
        self._cancel_all_blocks()

    def _get_launch_command(self, block_id):
        return self.commands.get(block_id, self.default)

    def _fail_all(self, exception):
        for f in self.futures:
            if not f.done():
                f.set_exception(exception)

    @property
    def outstanding(self):
        return sum(not f.done() for f in self.futures)

    @property
    def workers_per_node(self):
        return 1


def poll_until_settled(ex: BlockRunner, block_ids, state=JobState.FAILED):
    """Poll like the JobStatusPoller does until every block in ``block_ids`` reached ``state``."""
    deadline = time.monotonic() + WAIT
    while True:
        ex.poll_facade()
        if all(ex.status()[b].state == state for b in block_ids):
            return
        assert time.monotonic() < deadline, f"blocks never reached {state}: {ex.status()}"
        time.sleep(0.05)


@pytest.fixture
def make(tmp_path):
    made = []

    def make(**kw):
        provider = QuickLocalProvider(init_blocks=kw.pop("init_blocks", 0), max_blocks=10)
        ex = BlockRunner(provider, **kw)
        ex.run_dir = str(tmp_path)
        provider.script_dir = str(tmp_path)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.shutdown()


def test_true_means_simple_and_false_means_noop(make):
    assert make(block_error_handler=True).block_error_handler is simple_error_handler
    assert make(block_error_handler=False).block_error_handler is noop_error_handler


def test_bad_handler_is_refused_at_construction(make):
    with pytest.raises(TypeError, match=r"block_error_handler='yes'.*windowed_error_handler"):
        make(block_error_handler="yes")


def test_failing_block_trips_simple_handler(make):
    ex = make(block_error_handler=True, init_blocks=1)
    pending = ex.submit(print, {})
    [block] = ex.scale_out_facade(1)
    poll_until_settled(ex, [block])
    assert ex.bad_state_is_set
    err = ex.executor_exception
    assert isinstance(err, BadStateException) and isinstance(err, TooManyJobFailuresError)
    text = str(err)
    assert "1 of 1 blocks failed" in text and f"block {block}" in text
    assert "exited with code 3" in text
    assert ".stdout" in text and ".stderr" in text
    # the task that was waiting fails with it, and so does every later one
    assert pending.exception() is err
    with pytest.raises(BadStateException):
        ex.submit(print, {})


def test_noop_never_gives_up(make):
    ex = make(block_error_handler=False)
    blocks = ex.scale_out_facade(3)
    poll_until_settled(ex, blocks)
    ex._last_poll = 0
    ex.poll_facade()
    assert not ex.bad_state_is_set
    assert ex.executor_exception is None


def test_simple_waits_for_every_block_to_fail(make):
    # block 0 keeps running: simple does not give up while any block is alive
    ex = make(block_error_handler=True, commands={"0": "sleep 120"})
    ex.scale_out_facade(1)
    failing = ex.scale_out_facade(2)
    poll_until_settled(ex, failing)
    assert ex.status()["0"].state in (JobState.RUNNING, JobState.PENDING)
    assert not ex.bad_state_is_set


def test_windowed_gives_up_on_the_latest_blocks(make):
    # the same blocks as above: the two most recent failed, which is the whole window of 2
    handler = functools.partial(windowed_error_handler, threshold=2)
    ex = make(block_error_handler=handler, commands={"0": "sleep 120"})
    ex.scale_out_facade(1)
    failing = ex.scale_out_facade(2)
    poll_until_settled(ex, failing)
    assert ex.bad_state_is_set
    assert "2 of 3 blocks failed" in str(ex.executor_exception)


def test_windowed_does_not_give_up_while_the_window_has_a_live_block(make):
    handler = functools.partial(windowed_error_handler, threshold=2)
    ex = make(block_error_handler=handler, commands={"2": "sleep 120"})
    failing = ex.scale_out_facade(2)
    ex.scale_out_facade(1)
    poll_until_settled(ex, failing)
    assert not ex.bad_state_is_set


class Recorder:
    """A stand-in executor for calling handlers directly with chosen statuses."""

    def __init__(self, init_blocks=None):
        class P:
            pass

        self.provider = P()
        if init_blocks is not None:
            self.provider.init_blocks = init_blocks
        self.errors = []

    def set_bad_state_and_fail_all(self, exception):
        self.errors.append(exception)


def statuses(*states):
    return {str(i): JobStatus(s) for i, s in enumerate(states)}


def test_simple_threshold_follows_init_blocks():
    F, R = JobState.FAILED, JobState.RUNNING
    ex = Recorder(init_blocks=2)
    simple_error_handler(ex, statuses(F))
    assert ex.errors == []  # fewer blocks than init_blocks so far
    simple_error_handler(ex, statuses(F, JobState.MISSING))
    assert len(ex.errors) == 1  # MISSING counts as failed
    simple_error_handler(ex, statuses(F, R))
    assert len(ex.errors) == 1
    no_init = Recorder()
    simple_error_handler(no_init, statuses(F, F))
    assert no_init.errors == []  # the default threshold of 3
    simple_error_handler(no_init, statuses(F, F, F))
    assert len(no_init.errors) == 1


def test_windowed_orders_blocks_numerically():
    F, R = JobState.FAILED, JobState.RUNNING
    ex = Recorder()
    # blocks 0-9 ran, 10 and 11 failed: "10" < "9" as text, but the window is the last launched
    status = {str(i): JobStatus(R) for i in range(10)}
    status.update({"10": JobStatus(F), "11": JobStatus(F)})
    windowed_error_handler(ex, status, threshold=2)
    assert len(ex.errors) == 1
    windowed_error_handler(ex, status, threshold=3)
    assert len(ex.errors) == 1


def test_executor_in_a_workflow_fails_tasks_when_its_blocks_fail(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ex = BlockRunner(QuickLocalProvider(init_blocks=1, max_blocks=1), label="failing")
    config = Config(executors=[ex], strategy="none", strategy_period=0.05, run_dir=str(tmp_path / "runinfo"))
    with parsl.load(config):
        fut = parsl.python_app(print, executors=["failing"])()
        with pytest.raises(BadStateException, match="1 of 1 blocks failed"):
            fut.result(timeout=WAIT)
