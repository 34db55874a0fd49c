"""A task's exception arrives as upstream Parsl's does: same attributes, remote frames in its traceback.

The traceback travels beside the exception (never as a ``__notes__`` entry or any other
attribute), and is rebuilt as real frames, so two equal failures compare equal and printing
the exception shows the worker's frames and source lines.
"""

from __future__ import annotations

import pickle
import traceback

import pytest

from parsl import python_app
from parsl_executor_htex import serialize


@python_app
def fail_same(n):
    raise ValueError("same failure")


@python_app
def fail_with_cause():
    def deep():
        raise KeyError("the root cause")

    try:
        deep()
    except KeyError as e:
        raise RuntimeError("wrapped") from e


@python_app
def fail_in_handler():
    try:
        {}["missing"]
    except KeyError:
        raise ValueError("while handling")


@python_app
def fail_unpicklable():
    class Unpicklable(Exception):  # defined here so it reaches the worker with the function
        def __reduce__(self):
            raise TypeError("no pickling for this one")

    raise Unpicklable("cannot travel")


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def test_equal_failures_have_equal_attributes_and_no_notes(htex_dfk):
    errors = [f.exception(timeout=30) for f in [fail_same(i) for i in range(6)]]
    for e in errors:
        assert type(e) is ValueError and e.args == ("same failure",)
        assert vars(e) == {}, f"extra attributes on a task's exception: {vars(e)}"
    assert all(vars(e) == vars(errors[0]) for e in errors)


def test_exception_traceback_shows_the_remote_frames_and_lines(htex_dfk):
    exc = fail_same(0).exception(timeout=30)
    text = _text(exc)
    assert f'File "{__file__}"' in text, text
    assert "in fail_same" in text and 'raise ValueError("same failure")' in text, text
    assert "<dynamic-code>" not in text


def test_result_raising_shows_local_then_remote_frames(htex_dfk):
    fut = fail_same(1)
    with pytest.raises(ValueError) as info:
        fut.result(timeout=30)
    text = _text(info.value)
    local = text.index("in test_result_raising_shows_local_then_remote_frames")
    remote = text.index("in fail_same")
    assert local < remote, text


def test_cause_arrives_with_its_own_frames(htex_dfk):
    exc = fail_with_cause().exception(timeout=30)
    assert type(exc) is RuntimeError and vars(exc) == {}
    assert type(exc.__cause__) is KeyError and exc.__cause__.args == ("the root cause",)
    assert exc.__suppress_context__
    cause_frames = [f.name for f in traceback.extract_tb(exc.__cause__.__traceback__)]
    assert cause_frames[-2:] == ["fail_with_cause", "deep"]
    text = _text(exc)
    assert "direct cause" in text and 'raise KeyError("the root cause")' in text


def test_context_arrives_like_on_a_thread(htex_dfk):
    exc = fail_in_handler().exception(timeout=30)
    assert type(exc.__context__) is KeyError and not exc.__suppress_context__
    assert "During handling of the above exception" in _text(exc)


def test_received_exception_pickles_like_the_original(htex_dfk):
    exc = fail_with_cause().exception(timeout=30)
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is RuntimeError and again.args == exc.args and vars(again) == vars(exc) == {}


def test_unpicklable_exception_arrives_as_a_stand_in_naming_it(htex_dfk):
    exc = fail_unpicklable().exception(timeout=30)
    assert isinstance(exc, RuntimeError)
    assert "Unpicklable: cannot travel" in str(exc)
    assert "in fail_unpicklable" in _text(exc)


# --- the envelope itself, in one process ------------------------------------------------


def _raise_chain():
    try:
        raise OSError("inner")
    except OSError as e:
        raise ValueError("outer") from e


def test_pack_unpack_keeps_type_args_dict_and_frames_in_process():
    try:
        _raise_chain()
    except ValueError as e:
        e.custom = 5  # user attributes travel, as on upstream
        ok, exc = serialize.unpack_result(serialize.pack_exception(e, "worker 0"))
    assert ok is False and type(exc) is ValueError and exc.args == ("outer",)
    assert vars(exc) == {"custom": 5}
    assert [f.name for f in traceback.extract_tb(exc.__traceback__)] == [
        "test_pack_unpack_keeps_type_args_dict_and_frames_in_process",
        "_raise_chain",
    ]
    assert type(exc.__cause__) is OSError and exc.__context__ is exc.__cause__


def test_exception_chain_with_a_cycle_is_packed():
    a, b = ValueError("a"), KeyError("b")
    a.__context__, b.__context__ = b, a
    ok, exc = serialize.unpack_result(serialize.pack_exception(a))
    assert ok is False
    assert type(exc.__context__) is KeyError and exc.__context__.__context__ is exc


def test_functions_sent_by_value_keep_their_file_name():
    def local_function():
        return 1

    again = pickle.loads(serialize.dumps(local_function))
    assert again.__code__.co_filename == __file__
    assert again() == 1


def test_a_cause_that_pickles_but_cannot_be_rebuilt_travels_as_a_stand_in():
    import urllib.error

    from parsl_executor_htex.serialize import pack_exception, unpack_result

    try:
        try:
            raise urllib.error.HTTPError("http://x/y", 404, "Not Found", {}, None)
        except urllib.error.HTTPError as e:
            raise ValueError("could not fetch http://x/y") from e
    except ValueError as e:
        ok, exc = unpack_result(pack_exception(e))
    assert ok is False and type(exc) is ValueError and exc.args == ("could not fetch http://x/y",)
    assert type(exc.__cause__) is RuntimeError and "HTTPError" in str(exc.__cause__)
