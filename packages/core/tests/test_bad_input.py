"""Bad input gets a clear error where the mistake is made, and nothing else is lost.

Each case submits good tasks around the bad call and checks they all still complete.
"""

from __future__ import annotations

import pytest

import parsl
from parsl.app.errors import BadStdStreamFile, BashAppNoReturn
from parsl.config import Config
from parsl.dataflow.memoization import id_for_memo
from parsl.errors import ConfigurationError, NoDataFlowKernelError
from parsl.executors.threads import ThreadPoolExecutor


@parsl.python_app
def double(x):
    return 2 * x


@parsl.python_app
def writes(outputs=()):
    return len(outputs)


@parsl.bash_app
def returns_int():
    return 42


@parsl.bash_app
def echo(stdout=None):
    return "echo hello"


@parsl.python_app(executors=["no_such_label"])
def on_missing_executor():
    return 1


@parsl.python_app(cache=True)
def cached(x):
    return x


class Opaque:
    pass


def _raises_at_call(call):
    """The mistake raises from the call itself, not later from the future."""
    with pytest.raises(Exception) as info:
        call()
    return info.value


def _fails_in_future(call):
    fut = call()
    with pytest.raises(Exception) as info:
        fut.result(timeout=30)
    return info.value


def case_non_file_in_outputs():
    e = _raises_at_call(lambda: writes(outputs=[42]))
    assert isinstance(e, TypeError)
    return e, ["42", "int", "File("]


def case_bash_app_returning_a_non_string():
    e = _fails_in_future(returns_int)
    assert isinstance(e, BashAppNoReturn)
    return e, ["returns_int", "int", "str"]


def case_stdout_under_a_regular_file(tmp_path):
    plain = tmp_path / "a_file"
    plain.write_text("not a directory")
    target = plain / "sub" / "out.txt"  # even root cannot create a directory inside a file
    e = _fails_in_future(lambda: echo(stdout=str(target)))
    assert isinstance(e, BadStdStreamFile)
    return e, [str(target), "stdout"]


def case_unknown_executor_label():
    e = _raises_at_call(on_missing_executor)
    assert isinstance(e, ConfigurationError) and isinstance(e, ValueError)
    return e, ["no_such_label", "threads", "label="]


def case_unhashable_argument_of_a_cached_app():
    e = _fails_in_future(lambda: cached(Opaque()))
    assert isinstance(e, ValueError)
    return e, ["Opaque", "id_for_memo.register", "ignore_for_cache"]


CASES = {
    "non_file_in_outputs": case_non_file_in_outputs,
    "bash_non_string": case_bash_app_returning_a_non_string,
    "stdout_missing_dir": case_stdout_under_a_regular_file,
    "unknown_executor": case_unknown_executor_label,
    "unhashable_cached_arg": case_unhashable_argument_of_a_cached_app,
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_in_a_running_workflow(dfk, tmp_path, name):
    case = CASES[name]
    before = [double(i) for i in range(5)]
    args = (tmp_path,) if "tmp_path" in case.__code__.co_varnames[: case.__code__.co_argcount] else ()
    error, must_mention = case(*args)
    after = [double(i) for i in range(5)]
    message = str(error) + "".join(getattr(error, "__notes__", []))
    for word in must_mention:
        assert word in message, f"{word!r} not in {message!r}"
    assert [f.result(timeout=30) for f in before + after] == [0, 2, 4, 6, 8] * 2
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"retries": "3"}, ["retries", "'3'", "int"]),
        ({"executors": ThreadPoolExecutor}, ["ThreadPoolExecutor", "instance"]),
        (
            {"executors": [ThreadPoolExecutor(label="x"), ThreadPoolExecutor(label="x")]},
            ["'x'", "unique label"],
        ),
        ({"checkpoint_mode": "sometimes"}, ["sometimes", "task_exit"]),
        ({"checkpoint_mode": "periodic", "checkpoint_period": "30 minutes"}, ["30 minutes", "HH:MM:SS"]),
        ({"app_cache": "yes"}, ["app_cache", "yes"]),
    ],
    ids=[
        "retries_str",
        "executor_class",
        "duplicate_label",
        "checkpoint_mode",
        "checkpoint_period",
        "app_cache",
    ],
)
def test_bad_config_raises_at_config(kwargs, words):
    if kwargs.get("executors") is ThreadPoolExecutor:
        kwargs = {"executors": [ThreadPoolExecutor]}
    with pytest.raises(Exception) as info:
        Config(**kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_loading_something_that_is_not_a_config(tmp_path):
    with pytest.raises(ConfigurationError, match="received a dict; build one with Config"):
        parsl.load({"executors": []})


def test_calling_an_app_with_nothing_loaded():
    with pytest.raises(NoDataFlowKernelError) as info:
        double(1)
    assert str(info.value) == "Must first load config" and vars(info.value) == {}  # as upstream


def test_registered_user_type_is_hashable_for_memoization(dfk):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    @id_for_memo.register(Point)
    def _(p, output_ref=False):
        return id_for_memo((p.x, p.y))

    calls = []

    @parsl.python_app(cache=True)
    def norm(p):
        calls.append(1)
        return p.x + p.y

    assert norm(Point(1, 2)).result() == 3
    assert norm(Point(1, 2)).result() == 3
    assert norm(Point(2, 2)).result() == 4
    assert len(calls) == 2
