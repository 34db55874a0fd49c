"""join_app: apps that launch other apps and complete with their results."""

from __future__ import annotations

import threading

import pytest

from parsl import bash_app, join_app, python_app
from parsl.dataflow.errors import DependencyError, JoinError
from parsl.dataflow.futures import AppFuture


@python_app
def add(a, b):
    return a + b


@python_app
def square(x):
    return x * x


@python_app
def fail(msg):
    raise ArithmeticError(msg)


@python_app
def where():
    import threading

    return threading.current_thread().name


@join_app
def one(x):
    return square(x)


@join_app()
def many(n):
    return [square(i) for i in range(n)]


@join_app
def fib(n):
    if n < 2:
        return square(n)
    return add(fib(n - 1), fib(n - 2))


@join_app
def outer(x):
    return inner(x + 1)


@join_app
def inner(x):
    return square(x)


@join_app
def joins_on_failure():
    return fail("inner went wrong")


@join_app
def joins_on_some_failures():
    return [square(2), fail("first"), square(3), fail("second")]


@join_app
def returns_int():
    return 42


@join_app
def returns_mixed_list():
    return [square(1), 2]


@join_app
def body_raises():
    raise LookupError("join body failed")


@join_app
def empty():
    return []


def test_join_single_future(dfk):
    fut = one(7)
    assert isinstance(fut, AppFuture)
    assert fut.result() == 49
    assert fut.task_status() == "exec_done"


def test_join_list_of_futures(dfk):
    assert many(6).result() == [0, 1, 4, 9, 16, 25]


def test_join_empty_list(dfk):
    assert empty().result() == []


def test_nested_joins(dfk):
    assert outer(2).result() == 9


def test_recursive_joins(dfk):
    assert fib(12).result() == 144


def test_join_result_feeds_other_apps(dfk):
    assert add(one(3), one(4)).result() == 25


def test_join_waits_for_dependencies(dfk):
    assert one(add(1, 2)).result() == 9


def test_join_body_runs_on_internal_executor(dfk):
    seen = {}

    @join_app
    def spy():
        seen["join"] = threading.current_thread().name
        return where()

    inner_thread = spy().result()
    assert inner_thread.startswith("ThreadPoolExecutor-threads")
    assert "_parsl_internal" in seen["join"]


def test_failing_inner_app_is_join_error(dfk):
    fut = joins_on_failure()
    exc = fut.exception()
    assert isinstance(exc, JoinError)
    assert exc.task_id == fut.tid
    assert len(exc.dependent_exceptions_tids) == 1
    inner_exc, desc = exc.dependent_exceptions_tids[0]
    assert isinstance(inner_exc, ArithmeticError) and str(inner_exc) == "inner went wrong"
    assert desc.startswith("task ")
    assert isinstance(exc.__cause__, ArithmeticError)
    assert "Join failure" in str(exc) and f"task {fut.tid}" in str(exc)
    assert fut.task_status() == "failed"


def test_join_error_lists_every_inner_failure(dfk):
    exc = joins_on_some_failures().exception()
    assert isinstance(exc, JoinError)
    assert [str(e) for e, _ in exc.dependent_exceptions_tids] == ["first", "second"]
    assert all(isinstance(e, ArithmeticError) for e, _ in exc.dependent_exceptions_tids)
    tids = [d for _, d in exc.dependent_exceptions_tids]
    assert len(set(tids)) == 2 and all(t.startswith("task ") for t in tids)


def test_join_error_makes_dependents_fail(dfk):
    failed = joins_on_failure()
    dep = add(failed, 1)
    exc = dep.exception()
    assert isinstance(exc, DependencyError)
    assert exc.dependent_exceptions_tids[0][1] == f"task {failed.tid}"
    assert isinstance(exc.dependent_exceptions_tids[0][0], JoinError)
    assert isinstance(exc.__cause__, ArithmeticError)  # root cause found through the join


def test_returning_non_future_is_type_error(dfk):
    fut = returns_int()
    with pytest.raises(TypeError, match="Future"):
        fut.result()
    assert fut.task_status() == "failed"


def test_returning_list_with_non_future_is_type_error(dfk):
    with pytest.raises(TypeError):
        returns_mixed_list().result()


def test_join_body_exception_keeps_type(dfk):
    with pytest.raises(LookupError, match="join body failed"):
        body_raises().result()


def test_join_of_bash_app(dfk, tmp_path):
    @bash_app
    def touch(path):
        return f"touch {path}"

    @join_app
    def make(path):
        return touch(path)

    target = tmp_path / "made-by-join"
    assert make(str(target)).result() == 0
    assert target.exists()


def test_join_app_rejects_executors(dfk):
    with pytest.raises(TypeError):
        join_app(executors=["threads"])  # join apps always run on the internal executor


def test_join_app_with_retries_retries_the_body(load):
    load(retries=1)
    calls = []

    @join_app
    def flaky_join():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("first try")
        return square(5)

    assert flaky_join().result() == 25
    assert len(calls) == 2
