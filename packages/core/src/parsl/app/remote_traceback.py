"""Tracebacks that cross a process boundary: record an exception chain's frames, rebuild them.

An exception pickles without its ``__traceback__``, ``__cause__`` and ``__context__``. A
*chain record* carries them beside it as plain data::

    (exc, frames, cause_record | None, context_record | None, suppress_context)

where ``frames`` is a tuple of ``(filename, lineno, function_name)``, outermost first.
:func:`chain_record` makes one where the exception was raised (it must then be pickled), and
:func:`restore_chain` turns one back into the exception with real traceback objects, so
``traceback.print_exception`` and an uncaught re-raise show the remote frames and their source
lines (read from the local file when it exists), and nothing is added to the exception's
``__dict__``. Executors that run tasks in other processes use this (HTEX builds the same record
in its workers without importing ``parsl``); :class:`parsl.app.errors.RemoteExceptionWrapper`
is the object form of it.
"""

from __future__ import annotations

import sys
import threading
import traceback
from types import CodeType, FrameType, TracebackType
from typing import Optional

__all__ = ["ChainRecord", "Frames", "build_traceback", "chain_record", "frames_of", "restore_chain"]

Frames = tuple[tuple[str, int, str], ...]
#: ``frames`` is None in a reference to an exception described elsewhere in the same record
ChainRecord = tuple[BaseException, Frames | None, Optional["ChainRecord"], Optional["ChainRecord"], bool]

#: exceptions chained deeper than this are dropped from the record (real chains are short)
MAX_CHAIN = 32


def frames_of(tb: TracebackType | None) -> Frames:
    """The ``(filename, lineno, name)`` of each entry of ``tb``, outermost first."""
    return tuple((f.f_code.co_filename, lineno, f.f_code.co_name) for f, lineno in traceback.walk_tb(tb))


def chain_record(exc: BaseException, _seen: set[int] | None = None) -> ChainRecord:
    """The chain record of ``exc``: its frames, and those of its cause and context."""
    seen = set() if _seen is None else _seen
    seen.add(id(exc))

    def link(c: BaseException | None) -> ChainRecord | None:
        if c is None:
            return None
        if id(c) in seen:  # described elsewhere in this record: a reference only
            return (c, None, None, None, False)
        if len(seen) >= MAX_CHAIN:
            return None
        return chain_record(c, seen)

    cause = link(exc.__cause__)
    context = link(exc.__context__)
    return (exc, frames_of(exc.__traceback__), cause, context, exc.__suppress_context__)


def restore_chain(record: ChainRecord) -> BaseException:
    """The exception of ``record`` with its traceback, cause and context put back."""
    exc, frames, cause, context, suppress = record
    if frames is None:  # a reference to an exception restored elsewhere in the record
        return exc
    if frames:
        exc.__traceback__ = build_traceback(frames)
    if cause is not None:
        exc.__cause__ = restore_chain(cause)
    if context is not None:
        exc.__context__ = restore_chain(context)
    exc.__suppress_context__ = suppress
    return exc


def build_traceback(frames: Frames) -> TracebackType | None:
    """A real traceback whose entries show ``frames`` (``(filename, lineno, name)``, outermost first)."""
    stubs = _stub_frames(list(frames))
    tb = None
    for (frame, lasti), (_, lineno, _) in zip(reversed(stubs), reversed(frames), strict=True):
        tb = TracebackType(tb, frame, lasti, lineno)
    return tb


# --- stub frames -------------------------------------------------------------------------
# A traceback entry needs a real frame object, which only running code can make: each
# (filename, lineno, name) gets a frame from running a one-line ``raise`` compiled under that
# file name, renamed and moved to that line (the traceback module reads the line from the
# code, not from the entry). Frames are cached: tracebacks can share them. A finished frame
# keeps a reference to the frame that called it (``f_back``), so stubs are made on a
# short-lived thread of their own: otherwise each cached stub would pin the caller's stack,
# and its locals, for good.


class _Stub(Exception):
    pass


_STUB_SOURCE = "raise _Stub"
_CACHE_SIZE = 512
_cache: dict[tuple[str, int, str], tuple[FrameType, int]] = {}
_cache_lock = threading.Lock()


def _no_columns(code: CodeType) -> CodeType:
    """``code`` with line numbers only (no column ranges), so no ``^^^`` markers are drawn."""
    if sys.version_info < (3, 11):  # no column information before 3.11
        return code
    units = len(code.co_code) // 2
    table = bytearray()
    while units > 0:  # entries of kind 13 ("no columns"), line delta 0, up to 8 code units each
        n = min(units, 8)
        table += bytes((0x80 | (13 << 3) | (n - 1), 0))
        units -= n
    try:
        plain = code.replace(co_linetable=bytes(table))
        if all(col is None for _, _, col, _ in plain.co_positions()):
            return plain
    except (TypeError, ValueError):
        pass
    return code


def _make_stub(filename: str, lineno: int, name: str) -> tuple[FrameType, int]:
    code = compile(_STUB_SOURCE, filename, "exec")
    renamed = {"co_qualname": name} if sys.version_info >= (3, 11) else {}
    code = code.replace(co_name=name, co_firstlineno=max(lineno, 1), **renamed)
    code = _no_columns(code)
    try:
        exec(code, {"__name__": "__parsl_remote__", "_Stub": _Stub}, {})
    except _Stub as e:
        tb = e.__traceback__.tb_next  # type: ignore[union-attr]
        assert tb is not None
        return tb.tb_frame, tb.tb_lasti
    raise AssertionError("the stub did not raise")  # pragma: no cover


_Key = tuple[str, int, str]


def _make_stubs(keys: list[_Key], out: dict[_Key, tuple[FrameType, int]]) -> None:
    for key in keys:
        out[key] = _make_stub(*key)


def _stub_frames(keys: list[tuple[str, int, str]]) -> list[tuple[FrameType, int]]:
    """One ``(frame, lasti)`` per ``(filename, lineno, name)`` in ``keys``."""
    found = {k: _cache.get(k) for k in keys}
    missing = [k for k, v in found.items() if v is None]
    if missing:
        made: dict[tuple[str, int, str], tuple[FrameType, int]] = {}
        try:
            t = threading.Thread(
                target=_make_stubs, args=(missing, made), name="parsl-remote-frames", daemon=True
            )
            t.start()
            t.join()
        except RuntimeError:  # no new threads (interpreter shutting down): make them here
            pass
        if len(made) < len(missing):
            _make_stubs([k for k in missing if k not in made], made)
        found.update(made)
        with _cache_lock:
            if len(_cache) + len(made) > _CACHE_SIZE:
                _cache.clear()
            _cache.update(made)
    return [found[k] for k in keys]  # type: ignore[misc]
