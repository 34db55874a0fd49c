"""A task's exception comes back from the worker subprocess as Parsl delivers it: the same
exception, nothing added to it, with the worker's frames as its traceback (sent through
``parsl.app.errors.RemoteExceptionWrapper``)."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import pytest

import parsl
from parsl.config import Config
from parsl_example_executor import SubprocessExecutor

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
from example_executor_exception_apps import Tagged, fail_deep, fail_unpicklable  # noqa: E402


@pytest.fixture
def dfk(tmp_path, monkeypatch):
    # the worker subprocess imports the apps' module by name, as a user's workers would
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p))
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
