"""Task states: names and values as in Parsl, and the transitions tasks go through."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import Future

import pytest

import parsl
from parsl import join_app, python_app
from parsl.dataflow.states import FINAL_FAILURE_STATES, FINAL_STATES, States

EXPECTED = {
    "unsched": -1,
    "pending": 0,
    "running": 2,
    "exec_done": 3,
    "failed": 4,
    "dep_fail": 5,
    "launched": 7,
    "fail_retryable": 8,
    "memo_done": 9,
    "joining": 10,
    "running_ended": 11,
}


def test_state_names_and_values():
    assert {s.name: s.value for s in States} == EXPECTED
    assert States(3) is States.exec_done
    assert States["launched"] == 7
    assert int(States.failed) == 4


def test_final_states():
    assert set(FINAL_STATES) == {States.exec_done, States.memo_done, States.failed, States.dep_fail}
    assert set(FINAL_FAILURE_STATES) == {States.failed, States.dep_fail}


def test_old_import_location():
    from parsl.dataflow.states import States as S

    assert S is States


class Recorder:
    """An observer plugin: records every task state change."""

    def __init__(self):
        self.lock = threading.Lock()
        self.transitions = defaultdict(list)
        self.status_seen = []
        self.started = []
        self.stopped = []

    @parsl.hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        with self.lock:
            self.transitions[task["id"]].append((old_state, new_state))
            self.status_seen.append(task["status"] == new_state)

    @parsl.hookimpl
    def parsl_dfk_started(self, dfk):
        self.started.append(dfk)

    @parsl.hookimpl
    def parsl_dfk_stopped(self, dfk):
        self.stopped.append(dfk)

    def path(self, tid):
        with self.lock:
            steps = self.transitions[tid]
            return [steps[0][0].name] + [new.name for _, new in steps] if steps else []


@pytest.fixture
def recorder(load):
    rec = Recorder()
    dfk = load(observers=[rec])
    rec.dfk = dfk
    return rec


@python_app
def ok(x):
    return x


@python_app
def bad():
    raise RuntimeError("no")


@python_app(cache=True)
def cached(x):
    return x


@join_app
def joiner():
    return ok(1)


def wait_all():
    parsl.wait_for_current_tasks()


def test_successful_task_path(recorder):
    fut = ok(1)
    assert fut.result() == 1
    wait_all()
    assert recorder.path(fut.tid) == ["unsched", "pending", "launched", "exec_done"]
    assert all(recorder.status_seen)


def test_task_waiting_on_dependency_stays_pending(recorder):
    gate: Future = Future()
    fut = ok(gate)
    assert fut.task_status() == "pending"
    assert recorder.path(fut.tid) == ["unsched", "pending"]
    gate.set_result(2)
    assert fut.result() == 2
    assert recorder.path(fut.tid) == ["unsched", "pending", "launched", "exec_done"]


def test_failed_task_path(recorder):
    fut = bad()
    with pytest.raises(RuntimeError):
        fut.result()
    assert recorder.path(fut.tid) == ["unsched", "pending", "launched", "failed"]
    assert fut.task_status() == "failed"


def test_dep_fail_path(recorder):
    failing = bad()
    dep = ok(failing)
    dep.exception()
    assert recorder.path(dep.tid) == ["unsched", "pending", "dep_fail"]
    assert dep.task_status() == "dep_fail"


def test_memo_path(recorder):
    cached(5).result()
    second = cached(5)
    assert second.result() == 5
    assert recorder.path(second.tid) == ["unsched", "pending", "memo_done"]


def test_join_path(recorder):
    fut = joiner()
    assert fut.result() == 1
    assert recorder.path(fut.tid) == ["unsched", "pending", "launched", "joining", "exec_done"]


def test_retry_path(load):
    rec = Recorder()
    load(observers=[rec], retries=1)
    calls = []

    @python_app
    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("first")
        return "second"

    fut = flaky()
    assert fut.result() == "second"
    assert rec.path(fut.tid) == [
        "unsched",
        "pending",
        "launched",
        "fail_retryable",
        "pending",
        "launched",
        "exec_done",
    ]


def test_task_status_follows_states(recorder):
    gate: Future = Future()
    fut = ok(gate)
    assert fut.task_status() == "pending"
    gate.set_result(0)
    fut.result()
    assert fut.task_status() == "exec_done"


def test_observer_sees_dfk_lifecycle(load):
    rec = Recorder()
    dfk = load(observers=[rec])
    assert rec.started == [dfk]
    assert rec.stopped == []
    dfk.cleanup()
    assert rec.stopped == [dfk]


def test_observer_is_per_dfk(load, run_dir):
    rec = Recorder()
    first = load(observers=[rec])
    ok(1).result()
    first.cleanup()
    n = sum(len(v) for v in rec.transitions.values())
    load()  # a second kernel without the observer
    ok(2).result()
    parsl.wait_for_current_tasks()
    assert sum(len(v) for v in rec.transitions.values()) == n


def test_observer_exception_does_not_break_tasks(load):
    class Broken:
        @parsl.hookimpl
        def parsl_task_state_changed(self, dfk, task, old_state, new_state):
            raise ValueError("observer bug")

    load(observers=[Broken()])
    assert ok(3).result() == 3
    with pytest.raises(RuntimeError):
        bad().result()
