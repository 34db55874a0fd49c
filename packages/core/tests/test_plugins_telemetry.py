"""ParslExecutor's telemetry contract, as docs/plugins.md ("Executor telemetry") shows it to
third parties: a task wrapper asks for a channel, the executor connects it where the task
runs and hands what it carried to ``send_monitoring_messages``; it reaches
``parsl_executor_reported``."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as Pool

import pytest

import parsl
from parsl import hookimpl, python_app
from parsl.config import Config
from parsl.executors.base import TASK_TELEMETRY_ATTRIBUTE, ParslExecutor

cloudpickle = pytest.importorskip("cloudpickle")


@python_app
def square(x):
    return x * x


class Reporting:
    """A wrapper asking for a channel (the attribute set to None), left out when pickled."""

    def __init__(self, func):
        self.func = func
        self.parsl_monitoring_send = None

    def __reduce__(self):
        return (Reporting, (self.func,))

    def __call__(self, *args, _tid, **kwargs):
        if self.parsl_monitoring_send is not None:
            self.parsl_monitoring_send([{"type": "probe", "tid": _tid}])
        return self.func(*args, **kwargs)


def _run(payload):
    """Where the task runs: a fresh copy of the function, as another process would have."""
    func, args, kwargs = pickle.loads(payload)
    sent = []
    ParslExecutor.connect_task_telemetry(func, sent.extend)
    return func(*args, **kwargs), sent


class PoolExecutor(ParslExecutor):
    """docs/plugins.md's example, with the payload pickled as a process pool would."""

    PLUGIN_NAME = "pool"

    def __init__(self, label="pool"):
        super().__init__(label=label)

    def start(self):
        self.pool = Pool(2)

    def submit(self, func, resource_specification, *args, **kwargs):
        out = Future()

        def done(inner):
            try:
                value, sent = inner.result()
            except Exception as e:
                out.set_exception(e)
                return
            self.send_monitoring_messages(sent)
            out.set_result(value)

        payload = cloudpickle.dumps((func, args, kwargs))  # app functions of a test module go by value
        self.pool.submit(_run, payload).add_done_callback(done)
        return out

    def shutdown(self):
        self.pool.shutdown()


class Observer:
    def __init__(self):
        self.lock = threading.Lock()
        self.reports = []
        self.wrappers = {}

    @hookimpl
    def parsl_task_prepared(self, task, submission):
        func = submission.func
        wrapper = self.wrappers.get(func)
        if wrapper is None:
            wrapper = self.wrappers[func] = Reporting(func)
        submission.kwargs["_tid"] = task.id
        submission.func = wrapper

    @hookimpl
    def parsl_executor_reported(self, executor, messages):
        with self.lock:
            self.reports.extend((executor, m) for m in messages)


def test_task_messages_cross_the_executor_to_parsl_executor_reported(tmp_path):
    obs = Observer()
    ex = PoolExecutor()
    with parsl.load(Config(executors=[ex], observers=[obs], run_dir=str(tmp_path))):
        futures = [square(i) for i in range(4)]
        assert [f.result() for f in futures] == [0, 1, 4, 9]
    assert sorted(m["tid"] for _, m in obs.reports) == sorted(f.tid for f in futures)
    assert {label for label, _ in obs.reports} == {"pool"}
    # the workflow's own wrapper never got a channel: only the copies where tasks ran did
    assert all(w.parsl_monitoring_send is None for w in obs.wrappers.values())


def test_connect_task_telemetry_only_connects_functions_that_ask():
    sink = []
    asking = Reporting(len)
    assert ParslExecutor.connect_task_telemetry(asking, sink.append) is True
    assert getattr(asking, TASK_TELEMETRY_ATTRIBUTE) == sink.append
    assert ParslExecutor.connect_task_telemetry(len, sink.append) is False
    assert not hasattr(len, TASK_TELEMETRY_ATTRIBUTE)


def test_without_a_listener_the_executor_is_not_connected(tmp_path):
    ex = PoolExecutor()
    with parsl.load(Config(executors=[ex], run_dir=str(tmp_path))):
        assert ex.monitoring_messages is None
        assert square(3).result() == 9
