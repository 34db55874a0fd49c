"""Exceptions that cross processes keep upstream Parsl's attributes and show their remote frames.

``RemoteExceptionWrapper`` and ``parsl.app.remote_traceback`` rebuild real traceback
objects (no ``__notes__`` or other attribute added), and ``NoDataFlowKernelError`` is
exactly upstream's: message, args, and an empty ``__dict__``.
"""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
import textwrap
import traceback
import weakref

import pytest

import parsl
from parsl.app.errors import RemoteExceptionWrapper
from parsl.app.remote_traceback import build_traceback, chain_record, restore_chain
from parsl.errors import NoDataFlowKernelError


def _inner(n):
    raise ValueError(f"bad {n}")


def _outer():
    try:
        _inner(1)
    except ValueError as e:
        raise KeyError("outer") from e


def _wrapped_failure() -> RemoteExceptionWrapper:
    try:
        _outer()
    except KeyError:
        return RemoteExceptionWrapper(*sys.exc_info())
    raise AssertionError("no failure")


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def test_wrapper_pickles_and_gives_back_the_exception_with_its_frames():
    w = pickle.loads(pickle.dumps(_wrapped_failure()))
    assert w.e_type is KeyError and [f[2] for f in w.e_traceback] == ["_wrapped_failure", "_outer"]
    exc = w.get_exception()
    assert type(exc) is KeyError and exc.args == ("outer",) and vars(exc) == {}
    assert [f.name for f in traceback.extract_tb(exc.__traceback__)] == ["_wrapped_failure", "_outer"]
    assert type(exc.__cause__) is ValueError and exc.__context__ is exc.__cause__ and exc.__suppress_context__
    text = _text(exc)
    assert 'raise KeyError("outer") from e' in text and 'raise ValueError(f"bad {n}")' in text
    assert "^" not in text.split("KeyError: 'outer'")[-1], "no stray position markers"
    assert w.cause.e_type is ValueError and [f[2] for f in w.cause.e_traceback][-1] == "_inner"


def test_reraise_puts_the_callers_frames_before_the_remote_ones():
    w = pickle.loads(pickle.dumps(_wrapped_failure()))
    with pytest.raises(KeyError) as info:
        w.reraise()
    names = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert names[0] == "test_reraise_puts_the_callers_frames_before_the_remote_ones"
    assert names[-2:] == ["_wrapped_failure", "_outer"]


def test_two_equal_failures_compare_equal():
    a, b = (pickle.loads(pickle.dumps(_wrapped_failure())).get_exception() for _ in range(2))
    assert a is not b and vars(a) == vars(b) == {} and a.args == b.args


def test_rebuilt_frames_report_the_remote_line_everywhere():
    exc = ValueError("x")
    line = _inner.__code__.co_firstlineno + 1  # the raise statement in _inner
    exc.__traceback__ = build_traceback(((__file__, line, "_inner"), ("/no/such/file.py", 7, "gone")))
    entries = traceback.extract_tb(exc.__traceback__)
    assert [(e.lineno, e.name) for e in entries] == [(line, "_inner"), (7, "gone")]
    assert entries[0].line == 'raise ValueError(f"bad {n}")'  # read from the local file
    tb = exc.__traceback__
    assert tb.tb_frame.f_lineno == line and tb.tb_frame.f_code.co_filename == __file__


def test_uncaught_rebuilt_exception_prints_cleanly(tmp_path):
    """The interpreter's own printer (an uncaught error at top level) shows the remote lines."""
    script = tmp_path / "uncaught.py"
    script.write_text(
        textwrap.dedent(f"""
        import pickle, sys
        sys.path.insert(0, {str(tmp_path)!r})
        from parsl.app.remote_traceback import chain_record, restore_chain
        def remote():
            raise RuntimeError("from the worker")
        try:
            remote()
        except RuntimeError as e:
            record = pickle.dumps(chain_record(e))
        raise restore_chain(pickle.loads(record))
    """)
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1 and lines[-1] == "RuntimeError: from the worker"
    assert '    raise RuntimeError("from the worker")' in lines
    assert "" not in lines and not any(set(line.strip()) == {"^"} for line in lines), proc.stderr


def test_stub_frames_do_not_keep_the_callers_locals_alive():
    class Big:
        pass

    def rebuild_with(obj):
        # a (filename, line, name) never seen before, so a new stub frame is made here
        return build_traceback((("/remote/only.py", id(obj) % 100000 + 1, f"fresh_{id(obj)}"),))

    big = Big()
    ref = weakref.ref(big)
    tb = rebuild_with(big)
    del big
    gc.collect()
    assert ref() is None, "a cached stub frame pins its caller's locals"
    assert tb.tb_frame.f_code.co_name.startswith("fresh_")


def test_chain_with_a_cycle_is_recorded_and_restored():
    a, b = ValueError("a"), KeyError("b")
    a.__context__, b.__context__ = b, a
    back = restore_chain(pickle.loads(pickle.dumps(chain_record(a))))
    assert type(back.__context__) is KeyError and back.__context__.__context__ is back


def test_thread_executor_exceptions_have_no_extra_attributes(dfk):
    @parsl.python_app
    def boom():
        raise ValueError("same")

    a, b = boom().exception(timeout=30), boom().exception(timeout=30)
    assert vars(a) == vars(b) == {} and a.args == b.args == ("same",)
    assert "in boom" in _text(a)


def test_no_dfk_error_is_upstreams(tmp_path):
    parsl.clear()

    @parsl.python_app
    def f():
        return 1

    with pytest.raises(NoDataFlowKernelError) as info:
        f()
    err = info.value
    assert str(err) == "Must first load config" and err.args == ("Must first load config",)
    assert vars(err) == {} and not hasattr(err, "__notes__")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is NoDataFlowKernelError and again.args == err.args and vars(again) == {}
