"""Retries, cancellation, dependency failures and deep chains."""

from __future__ import annotations

import sys
import threading
import traceback
from concurrent.futures import CancelledError

import pytest

import parsl
from parsl.app.app import join_app, python_app
from parsl.dataflow.errors import DependencyError, JoinError
from parsl.dataflow.states import States

ATTEMPTS: list = []


@pytest.fixture(autouse=True)
def _reset():
    ATTEMPTS.clear()
    yield


@python_app
def flaky(key, fail_times):
    ATTEMPTS.append(key)
    if ATTEMPTS.count(key) <= fail_times:
        raise ValueError(f"{key} attempt {ATTEMPTS.count(key)}")
    return key


@python_app
def always_fails(key):
    ATTEMPTS.append(key)
    raise ValueError(f"{key} fails")


def _deep_raise(n):
    if n == 0:
        raise KeyError("deep inside")
    return _deep_raise(n - 1)


@python_app
def fails_deep():
    try:
        _deep_raise(3)
    except KeyError as e:
        raise RuntimeError("wrapped") from e


@python_app
def add(a, b=0):
    return a + b


@python_app
def wait_on(event, value=None):
    event.wait(10)
    return value


# ------------------------------------------------------------------------------ retries
def test_retries_rerun_a_failing_task_and_record_its_history(load):
    load(retries=2)
    fut = flaky("a", 2)
    assert fut.result() == "a"
    rec = fut.task_record
    assert ATTEMPTS.count("a") == 3
    assert rec.try_id == 2 and rec.fail_count == 2
    assert len(rec.fail_history) == 2 and "attempt 1" in rec.fail_history[0]


def test_retries_exhausted_fail_with_the_last_exception(load):
    load(retries=1)
    fut = always_fails("b")
    with pytest.raises(ValueError, match="b fails"):
        fut.result()
    assert ATTEMPTS.count("b") == 2
    assert fut.task_record.status == States.failed


def test_retry_handler_cost_decides_how_many_tries(load):
    seen = []

    def handler(exc, task_record):
        seen.append((type(exc).__name__, task_record.try_id))
        return 2.0  # each failure costs two retries

    load(retries=3, retry_handler=handler)
    with pytest.raises(ValueError):
        always_fails("c").result()
    assert ATTEMPTS.count("c") == 2  # cost 2, then 4 > 3
    assert seen == [("ValueError", 0), ("ValueError", 1)]


def test_retry_handler_that_raises_fails_the_task_with_its_error_chained(load):
    def handler(exc, task_record):
        raise RuntimeError("handler broke")

    load(retries=5, retry_handler=handler)
    with pytest.raises(RuntimeError, match="handler broke") as info:
        always_fails("d").result()
    assert isinstance(info.value.__cause__, ValueError)
    assert ATTEMPTS.count("d") == 1


def test_dependency_errors_are_never_retried(load):
    dfk = load(retries=3)
    bad = always_fails("e")
    child = add(bad, 1)
    with pytest.raises(DependencyError) as info:
        child.result()
    assert ATTEMPTS.count("e") == 4  # the failing task itself is retried
    assert child.task_record.try_id == 0 and child.task_record.fail_count == 0
    assert isinstance(info.value.__cause__, ValueError)
    assert dfk.task_state_counts[States.dep_fail] == 1


def test_join_app_failures_are_not_retried(load):
    load(retries=3)

    @join_app
    def joiner():
        return always_fails("f")

    with pytest.raises(JoinError):
        joiner().result()
    assert ATTEMPTS.count("f") == 4  # the inner app retries; the join does not rerun it


def test_exceptions_keep_their_traceback_and_cause(dfk):
    with pytest.raises(RuntimeError) as info:
        fails_deep().result()
    assert isinstance(info.value.__cause__, KeyError)
    text = "".join(traceback.format_exception(info.value))
    assert "_deep_raise" in text and "deep inside" in text


# ------------------------------------------------------------------------- cancellation
def test_cancel_a_task_waiting_for_inputs_fails_its_dependents(dfk):
    gate = threading.Event()
    blocker = wait_on(gate, 1)
    middle = add(blocker, 1)
    leaf = add(middle, 1)
    assert middle.cancel() is True
    assert middle.cancelled() and middle.done()
    with pytest.raises(CancelledError):
        middle.result()
    with pytest.raises(DependencyError, match="task 1") as info:
        leaf.result()
    assert isinstance(info.value.__cause__, CancelledError)
    gate.set()
    assert blocker.result() == 1
    assert middle.task_record.status == States.failed
    assert middle.cancel() is False  # already cancelled: nothing more to do


def test_a_cancelled_task_never_runs(dfk):
    ran = []

    @python_app
    def record(x):
        ran.append(x)
        return x

    gate = threading.Event()
    blocker = wait_on(gate, 5)
    cancelled = record(blocker)
    assert cancelled.cancel()
    gate.set()
    assert blocker.result() == 5
    dfk.wait_for_current_tasks()
    assert ran == []


def test_cancel_a_task_queued_in_the_executor(load):
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor

    load(Config(executors=[ThreadPoolExecutor(max_threads=1)], strategy="none", run_dir="runinfo"))
    gate = threading.Event()
    running = wait_on(gate, 1)  # occupies the only thread
    queued = add(1, 2)  # launched, waiting in the executor's queue
    assert queued.cancel() is True
    assert queued.cancelled()
    gate.set()
    assert running.result() == 1


def test_cancel_a_running_task_is_refused_and_it_completes(dfk):
    gate = threading.Event()
    fut = wait_on(gate, 7)
    started = threading.Event()

    while fut.task_record.status != States.launched:
        started.wait(0.01)
    # the worker thread may or may not have picked it up yet; once running it cannot stop
    for _ in range(100):
        if fut.task_record.exec_fu is not None and fut.task_record.exec_fu.running():
            break
        started.wait(0.01)
    assert fut.cancel() is False
    gate.set()
    assert fut.result() == 7 and not fut.cancelled()


def test_cancelled_dependency_fails_a_join_and_data_futures(dfk, tmp_path):
    from parsl.data_provider.files import File

    gate = threading.Event()

    @python_app
    def writes(x, outputs=()):
        return x

    blocker = wait_on(gate, 1)
    producer = writes(blocker, outputs=[File(str(tmp_path / "out.txt"))])
    assert producer.cancel()
    assert producer.outputs[0].cancelled()
    consumer = add(1, b=producer.outputs[0])
    with pytest.raises(DependencyError, match="DataFuture from task 1"):
        consumer.result()

    @join_app
    def joiner():
        return [producer]

    with pytest.raises(JoinError):
        joiner().result()
    gate.set()


# ---------------------------------------------------------------------------- deep chains
DEPTH = 10_000


@python_app
def inc(x):
    return x + 1


@python_app(cache=True)
def cached_inc(x):
    return x + 1


@python_app
def broken():
    raise ValueError("root failure")


@pytest.mark.parametrize("app", ["plain", "memoized"])
def test_ten_thousand_deep_chain(dfk, app):
    fn = inc if app == "plain" else cached_inc
    limit = sys.getrecursionlimit()
    fut = fn(0)
    for _ in range(DEPTH - 1):
        fut = fn(fut)
    assert fut.result(timeout=120) == DEPTH
    if app == "memoized":  # the same chain again is served from the memo table
        fut = fn(0)
        for _ in range(DEPTH - 1):
            fut = fn(fut)
        assert fut.result(timeout=120) == DEPTH
        assert dfk.tasks_memo_completed_count == DEPTH
    assert sys.getrecursionlimit() == limit


def test_ten_thousand_deep_failing_chain(dfk):
    fut = broken()
    for _ in range(DEPTH):
        fut = inc(fut)
    with pytest.raises(DependencyError) as info:
        fut.result(timeout=120)
    e = info.value
    assert isinstance(e.__cause__, ValueError) and str(e.__cause__) == "root failure"
    text = str(e)
    assert len(text) < 2000 and "more" in text
    traceback.format_exception(e)  # formatting a deep chain does not recurse without bound
    assert dfk.tasks_dep_fail_count == DEPTH


def test_no_dfk_loaded_says_how_to_load_one():
    from parsl.errors import NoDataFlowKernelError

    with pytest.raises(NoDataFlowKernelError) as info:
        inc(1)
    assert str(info.value) == "Must first load config" and vars(info.value) == {}  # as upstream
    assert parsl  # the module imported above
