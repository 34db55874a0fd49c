"""Telemetry over HTEX's own connection: block and node messages, and messages that a
``parsl_task_prepared`` wrapper sends from inside the worker through ParslExecutor's telemetry
contract (the ``parsl_monitoring_send`` attribute)."""

from __future__ import annotations

import threading
import time

import parsl
from parsl import hookimpl, python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor


@python_app
def square(x):
    return x * x


def make_wrapper_class():
    # Defined in a function so that cloudpickle sends the class by value to the workers.
    class Reporting:
        def __init__(self, func):
            self.func = func
            self.parsl_monitoring_send = None  # the worker's channel, set on the worker

        def __reduce__(self):
            return (type(self), (self.func,))

        def __call__(self, *args, **kwargs):
            tid = kwargs.pop("_tid")
            import os

            if self.parsl_monitoring_send is not None:
                self.parsl_monitoring_send([{"type": "probe", "tid": tid, "pid": os.getpid()}])
            return self.func(*args, **kwargs)

    return Reporting


class Observer:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.wrappers = {}
        self.cls = make_wrapper_class()

    @hookimpl
    def parsl_task_prepared(self, dfk, task, submission):
        submission.kwargs["_tid"] = task.id
        func = submission.func
        w = self.wrappers.get(id(func))
        if w is None:
            w = self.wrappers[id(func)] = self.cls(func)
        submission.func = w

    @hookimpl
    def parsl_executor_reported(self, dfk, executor, messages):
        with self.lock:
            self.messages.extend((executor, m) for m in messages)

    def of_type(self, kind):
        with self.lock:
            return [m for _, m in self.messages if m.get("type") == kind]


def test_worker_messages_nodes_and_blocks_reach_parsl_executor_reported(tmp_path):
    obs = Observer()
    ex = HighThroughputExecutor(
        label="htex_mon", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
    )
    with parsl.load(Config(executors=[ex], observers=[obs], run_dir=str(tmp_path / "runinfo"))):
        futures = [square(i) for i in range(50)]
        assert [f.result(timeout=60) for f in futures] == [i * i for i in range(50)]
        deadline = time.monotonic() + 10
        while len(obs.of_type("probe")) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
    probes = obs.of_type("probe")
    assert sorted(p["tid"] for p in probes) == sorted(f.tid for f in futures)
    import os

    assert os.getpid() not in {p["pid"] for p in probes}  # they really came from worker processes
    node_up = obs.of_type("node")[0]
    assert node_up["active"] is True and node_up["block_id"] == "0" and node_up["worker_count"] == 2
    assert node_up["cpu_count"] >= 1 and node_up["total_memory"] > 0 and node_up["uid"]
    # a plugin hears of a pool's changes, not of every batch given to it (an engine's queue does)
    assert {n["event"] for n in obs.of_type("node")} <= {"registered", "held", "lost"}
    blocks = obs.of_type("block")
    assert blocks and blocks[0]["status"] == "PENDING" and blocks[0]["block_id"] == "0"
    assert all(label == "htex_mon" for label, _ in obs.messages)


def test_the_worker_spells_the_telemetry_attribute_as_core_does():
    from parsl.executors.base import TASK_TELEMETRY_ATTRIBUTE
    from parsl_executor_htex import worker

    assert worker.TASK_TELEMETRY_ATTRIBUTE == TASK_TELEMETRY_ATTRIBUTE
    assert TASK_TELEMETRY_ATTRIBUTE in make_wrapper_class()(len).__dict__
