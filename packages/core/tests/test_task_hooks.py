"""The task-wrapping and executor-report hooks: ``parsl_task_prepared`` and
``parsl_executor_reported``, with thread executors and LocalProvider blocks."""

from __future__ import annotations

import threading
import time

import pytest

import parsl
from parsl import hookimpl, python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@python_app
def add(a, b=0):
    return a + b


@python_app
def fails():
    raise ValueError("no")


class Wrapper:
    """Runs the function, records the private (task id, try id) it was given."""

    def __init__(self, func, seen):
        self.func = func
        self.seen = seen

    def __call__(self, *args, **kwargs):
        self.seen.append(kwargs.pop("_test_ids"))
        return self.func(*args, **kwargs)


class Wrapping:
    def __init__(self):
        self.seen = []
        self.wrappers = {}

    @hookimpl
    def parsl_task_prepared(self, dfk, task, submission):
        submission.kwargs["_test_ids"] = (task.id, task.try_id)
        func = submission.func
        w = self.wrappers.get(id(func))
        if w is None:
            w = self.wrappers[id(func)] = Wrapper(func, self.seen)
        submission.func = w


def test_parsl_task_prepared_wraps_each_try_with_its_own_kwargs(tmp_path):
    obs = Wrapping()
    cfg = Config(
        executors=[ThreadPoolExecutor(max_threads=2)], observers=[obs], retries=2, run_dir=str(tmp_path)
    )
    with parsl.load(cfg):
        ok = add(1, b=2)
        bad = fails()
        assert ok.result() == 3
        with pytest.raises(ValueError):
            bad.result()
        # the task's own kwargs are untouched: the private key went into a per-try copy
        assert ok.task_record.kwargs == {"b": 2}
    assert (ok.tid, 0) in obs.seen
    assert [t for t in obs.seen if t[0] == bad.tid] == [(bad.tid, 0), (bad.tid, 1), (bad.tid, 2)]
    assert len(obs.wrappers) == 2  # one wrapper per function, reused by every try


def test_parsl_task_prepared_chain_and_a_raising_implementation_is_skipped(tmp_path):
    calls = []

    class Outer:
        @hookimpl
        def parsl_task_prepared(self, submission):
            func = submission.func

            def outer(*a, **k):
                calls.append("outer")
                return func(*a, **k) * 10

            submission.func = outer

    class Inner:
        @hookimpl
        def parsl_task_prepared(self, submission):
            func = submission.func

            def inner(*a, **k):
                calls.append("inner")
                return func(*a, **k) + 1

            submission.func = inner

    class Broken:
        @hookimpl
        def parsl_task_prepared(self, submission):
            raise RuntimeError("observer bug")

    # pluggy calls the last registered first: Inner wraps the app, Broken raises, Outer wraps Inner
    cfg = Config(
        executors=[ThreadPoolExecutor()], observers=[Outer(), Broken(), Inner()], run_dir=str(tmp_path)
    )
    with parsl.load(cfg):
        assert add(2, 3).result() == 60
    assert calls == ["outer", "inner"]


def test_no_implementation_means_no_wrapping(tmp_path):
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path))) as dfk:
        assert dfk.plugins.prepares_tasks is False
        assert dfk.executors["threads"].monitoring_messages is None
        assert add(1).result() == 1


class Messages:
    def __init__(self):
        self.got = []
        self.lock = threading.Lock()

    @hookimpl
    def parsl_executor_reported(self, dfk, executor, messages):
        with self.lock:
            self.got.extend((executor, m) for m in messages)


def test_parsl_executor_reported_receives_block_status_changes(tmp_path):
    from parsl.executors.status_handling import BlockProviderExecutor
    from parsl.jobs.states import JobState, JobStatus

    class Provider:
        status_polling_interval = 0.01
        script_dir = str(tmp_path)

        def __init__(self):
            self.jobs = {}

        def submit(self, command, tasks_per_node, job_name="parsl"):
            jid = f"job{len(self.jobs)}"
            self.jobs[jid] = JobState.RUNNING
            return jid

        def status(self, job_ids):
            return [JobStatus(self.jobs[j]) for j in job_ids]

        def cancel(self, job_ids):
            for j in job_ids:
                self.jobs[j] = JobState.CANCELLED
            return [True] * len(job_ids)

    class Blocky(BlockProviderExecutor):
        def __init__(self):
            super().__init__(provider=Provider(), label="blocky")

        def start(self):
            pass

        def submit(self, func, resource_specification, *args, **kwargs):
            raise NotImplementedError

        def shutdown(self):
            pass

        def _get_launch_command(self, block_id):
            return "true"

        @property
        def outstanding(self):
            return 0

        @property
        def workers_per_node(self):
            return 1

    obs = Messages()
    ex = Blocky()
    with parsl.load(Config(executors=[ex], observers=[obs], strategy="none", run_dir=str(tmp_path))):
        assert callable(ex.monitoring_messages)
        [block] = ex.scale_out_facade(1)
        ex._last_poll = 0
        ex.poll_facade()  # PENDING -> RUNNING
        ex.scale_in(block_ids=[block])
        time.sleep(0.05)
    statuses = [m["status"] for label, m in obs.got if m["type"] == "block"]
    assert statuses == ["PENDING", "RUNNING", "SCALED_IN"]
    assert all(label == "blocky" and m["job_id"] == "job0" and m["block_id"] == block for label, m in obs.got)


def test_send_monitoring_messages_accepts_a_queue_and_never_raises():
    import queue

    ex = ThreadPoolExecutor()
    q: queue.Queue = queue.Queue()
    ex.monitoring_messages = q
    ex.send_monitoring_messages([{"type": "x"}, {"type": "y"}])
    assert [q.get_nowait()["type"] for _ in range(2)] == ["x", "y"]

    def broken(msgs):
        raise OSError("gone")

    ex.monitoring_messages = broken
    ex.send_monitoring_messages([{"type": "z"}])  # logged, not raised
