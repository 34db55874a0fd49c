"""A task's exception comes back from the worker subprocess as Parsl delivers it: the same
exception, nothing added to it, with the worker's frames as its traceback (sent through
``parsl.app.errors.RemoteExceptionWrapper``)."""
from __future__ import annotations

import traceback

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl_example_executor import SubprocessExecutor


class Tagged(Exception):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("refuses to be pickled")


@python_app
def fail_deep(tag: str) -> None:
    def inner_helper_frame() -> None:
        try:
            raise KeyError("the cause")
        except KeyError as e:
            raise Tagged(tag) from e
    inner_helper_frame()


@python_app
def fail_unpicklable() -> None:
    raise Unpicklable("cannot travel")


@pytest.fixture
def dfk(tmp_path):
    executor = SubprocessExecutor(label="sub", workers=1)
    with parsl.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), strategy="none")) as d:
        yield d


def test_exception_arrives_without_added_attributes_and_with_remote_frames(dfk):
    exc = fail_deep("t1").exception(timeout=60)
    assert type(exc) is Tagged
    assert exc.args == ("t1",)
    assert exc.__dict__ == {"tag": "t1"}  # no __notes__ or anything else added
    assert not hasattr(exc, "__notes__")
    names = [entry.name for entry in traceback.extract_tb(exc.__traceback__)]
    assert names[-1] == "inner_helper_frame" and "fail_deep" in names
    # only the worker's frames: none of the executor's own (reraise, remote_exception, _run_one)
    assert not {"reraise", "remote_exception", "_run_one"} & set(names)
    assert type(exc.__cause__) is KeyError
    assert "inner_helper_frame" in [e.name for e in traceback.extract_tb(exc.__cause__.__traceback__)]
    text = "".join(traceback.format_exception(exc))
    assert "KeyError: 'the cause'" in text and "direct cause" in text


def test_two_equal_failures_compare_equal(dfk):
    a, b = fail_deep("same").exception(timeout=60), fail_deep("same").exception(timeout=60)
    assert (type(a), a.args, a.__dict__) == (type(b), b.args, b.__dict__)


def test_unpicklable_exception_arrives_as_runtime_error_with_its_frames(dfk):
    exc = fail_unpicklable().exception(timeout=60)
    assert type(exc) is RuntimeError
    assert "Unpicklable: cannot travel" in str(exc)
    assert "fail_unpicklable" in [e.name for e in traceback.extract_tb(exc.__traceback__)]
