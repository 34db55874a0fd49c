"""End to end through real processes: python and bash apps, errors, many tasks, two workers."""

from __future__ import annotations

import os

import pytest

from parsl import bash_app, python_app
from parsl.app.errors import BashExitFailure
from parsl.executors.errors import DeserializationError, InvalidResourceSpecification, SerializationError


@python_app
def add(a, b):
    return a + b


@python_app
def worker_env():
    import os
    import time

    time.sleep(0.2)
    return {
        k: os.environ[k]
        for k in ("PARSL_WORKER_RANK", "PARSL_WORKER_COUNT", "PARSL_WORKER_POOL_ID", "PARSL_WORKER_BLOCK_ID")
    }


@python_app
def fail(msg):
    def inner():
        raise ValueError(msg)

    inner()


@bash_app
def echo(word, stdout=None, stderr=None):
    return f"echo {word}"


@bash_app
def exit_with(code):
    return f"exit {code}"


def test_python_app_round_trip(htex_dfk):
    assert add(1, 2).result(timeout=30) == 3
    assert add("a", "b").result(timeout=30) == "ab"


def test_lambda_and_closure_from_the_test_module(htex_dfk):
    offset = 10
    app = python_app(lambda x: x + offset)
    assert app(5).result(timeout=30) == 15


def test_exception_keeps_type_message_and_remote_traceback(htex_dfk):
    with pytest.raises(ValueError, match="broken on purpose") as info:
        fail("broken on purpose").result(timeout=30)
    import traceback

    text = "".join(traceback.format_exception(info.value))
    assert "in inner" in text and "raise ValueError(msg)" in text and "__notes__" not in vars(info.value)


def test_bash_app_writes_stdout(htex_dfk, tmp_path):
    out = tmp_path / "echo.out"
    assert echo("hello", stdout=str(out)).result(timeout=30) == 0
    assert out.read_text() == "hello\n"


def test_bash_app_failure_is_bash_exit_failure(htex_dfk):
    with pytest.raises(BashExitFailure) as info:
        exit_with(3).result(timeout=30)
    assert info.value.exitcode == 3


def test_many_tasks_in_order(htex_dfk):
    futures = [add(i, i) for i in range(2000)]
    assert [f.result(timeout=60) for f in futures] == [2 * i for i in range(2000)]


def test_dependencies_flow_between_tasks(htex_dfk):
    total = add(0, 0)
    for i in range(1, 50):
        total = add(total, i)
    assert total.result(timeout=30) == sum(range(50))


def test_two_workers_see_their_rank_and_pool(htex_dfk):
    envs = [f.result(timeout=30) for f in [worker_env() for _ in range(6)]]
    assert {e["PARSL_WORKER_RANK"] for e in envs} == {"0", "1"}
    assert {e["PARSL_WORKER_COUNT"] for e in envs} == {"2"}
    assert len({e["PARSL_WORKER_POOL_ID"] for e in envs}) == 1
    assert {e["PARSL_WORKER_BLOCK_ID"] for e in envs} == {"0"}


def test_priority_is_accepted_and_other_keys_raise_at_submit(htex_dfk):
    assert add(1, 1, parsl_resource_specification={"priority": 5}).result(timeout=30) == 2
    # the executor raises at submit; the kernel hands that to the app's future
    with pytest.raises(InvalidResourceSpecification, match="cores"):
        htex_dfk.executors["htex"].submit(lambda: 1, {"cores": 2})
    with pytest.raises(InvalidResourceSpecification, match="cores"):
        add(1, 1, parsl_resource_specification={"cores": 2}).result(timeout=30)


def test_executor_reports_its_pool(htex_dfk):
    ex = htex_dfk.executors["htex"]
    assert add(1, 1).result(timeout=30) == 2  # the pool has registered (also when run alone)
    managers = ex.connected_managers()
    assert len(managers) == 1 and managers[0]["worker_count"] == 2
    assert ex.connected_workers == 2
    assert ex.outstanding == 0
    # the pool registered, so the one block's process runs: the provider says so, and the
    # executor's check for blocks whose workers never connected leaves it alone
    assert {block: s.state.name for block, s in ex.status().items()} == {"0": "RUNNING"}


def test_large_argument_round_trip(htex_dfk):
    blob = os.urandom(5 * 1024 * 1024)
    assert add(blob, b"!").result(timeout=30) == blob + b"!"


@python_app
def identity(x):
    return x


@python_app
def make_lock():
    import threading

    return threading.Lock()


def test_unpicklable_argument_is_a_serialization_error_naming_its_type(htex_dfk):
    import threading

    with pytest.raises(SerializationError, match=r"argument 1 of type _thread\.lock") as info:
        add(1, threading.Lock()).result(timeout=30)
    assert info.value.__cause__ is not None
    assert add(2, 3).result(timeout=30) == 5  # nothing else is lost


def test_unpicklable_result_is_a_serialization_error_naming_its_type(htex_dfk):
    others = [identity(i) for i in range(4)]
    with pytest.raises(SerializationError, match=r"make_lock \(its result of type _thread\.lock"):
        make_lock().result(timeout=30)
    assert [f.result(timeout=30) for f in others] == [0, 1, 2, 3]
    assert identity("still fine").result(timeout=30) == "still fine"


@python_app
def foreign_object():
    import pickle
    import types

    # a class whose module does not exist on the workflow side
    module = types.ModuleType("parsl_htex_worker_only_module")
    cls = type("WorkerOnly", (), {"__module__": module.__name__})
    module.WorkerOnly = cls
    import sys

    sys.modules[module.__name__] = module
    return pickle.loads(pickle.dumps(cls()))  # an instance cloudpickle sends by reference


def test_result_that_cannot_be_deserialized_is_a_deserialization_error(htex_dfk):
    with pytest.raises(DeserializationError, match="parsl_htex_worker_only_module"):
        foreign_object().result(timeout=30)
    assert identity(7).result(timeout=30) == 7
