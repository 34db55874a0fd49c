"""Serialization on the HTEX wire: cloudpickle for functions and data, results tagged ok/error.

Also registers :class:`CloudpickleSerializer` with ``parsl.serialize`` (see ``plugin.py``).
"""
from __future__ import annotations

import pickle
import threading
import traceback
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

import cloudpickle
from parsl.serialize.base import SerializerBase

__all__ = [
    "CloudpickleSerializer",
    "FunctionCache",
    "dumps",
    "loads",
    "pack_exception",
    "pack_result",
    "result_error",
    "submit_error",
    "unpack_result",
]

PROTOCOL = pickle.HIGHEST_PROTOCOL
loads = pickle.loads

_OK = b"\x00"
_ERR = b"\x01"


def dumps(obj: Any) -> bytes:
    """Serialize ``obj`` with cloudpickle (functions defined in ``__main__`` travel by value)."""
    return cloudpickle.dumps(obj, protocol=PROTOCOL)


class CloudpickleSerializer(SerializerBase):
    """cloudpickle, preferred over core's pickle so lambdas and ``__main__`` functions serialize."""

    PLUGIN_NAME = "cloudpickle"
    identifier = b"cp"
    priority = 10

    def serialize(self, data: Any) -> bytes:
        return dumps(data)

    def deserialize(self, body: bytes) -> Any:
        return loads(body)


def pack_result(value: Any) -> bytes:
    """Serialize a task's return value."""
    return _OK + dumps(value)


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def submit_error(func: Any, what: str, exc: BaseException) -> Exception:
    """SerializationError for a function or its arguments that will not serialize, naming the cause."""
    from parsl.serialize.errors import SerializationError
    return SerializationError(f"{_name(func)} ({what} could not be serialized: {type(exc).__name__}: {exc})")


def result_error(func: Any, value: Any, exc: BaseException) -> Exception:
    """SerializationError for a task result that will not serialize, naming its type."""
    from parsl.serialize.errors import SerializationError
    return SerializationError(f"{_name(func)} (its result of type {type(value).__module__}."
                              f"{type(value).__qualname__} could not be serialized: {type(exc).__name__}: {exc})")


def pack_exception(exc: BaseException, where: str = "") -> bytes:
    """Serialize an exception raised by a task, with its remote traceback as text."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        return _ERR + dumps((exc, tb, where))
    except Exception as e:  # the exception itself will not pickle: send its text instead
        from parsl.executors.errors import SerializationError  # noqa: F401 (documented fallback)
        stand_in = RuntimeError(f"{type(exc).__name__}: {exc} (unpicklable exception: {e})")
        return _ERR + dumps((stand_in, tb, where))


def unpack_result(payload: bytes) -> tuple[bool, Any]:
    """Return ``(True, value)`` or ``(False, exception)`` from :func:`pack_result`/`pack_exception`."""
    tag = payload[:1]
    body = loads(memoryview(payload)[1:])
    if tag == _OK:
        return True, body
    exc, tb, where = body
    if tb:
        try:
            exc.add_note(f"Remote traceback{f' ({where})' if where else ''}:\n{tb.rstrip()}")
        except AttributeError:  # Python < 3.11
            pass
    return False, exc


class FunctionCache:
    """Serialize each function once and give it a small integer id.

    Entries are keyed by the function object itself (held weakly where possible), so a
    function that is garbage-collected frees its entry, and its id is queued in
    ``forgotten`` for the other processes to drop too.
    """

    _no_weakref: ClassVar[tuple[type, ...]] = ()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self._weak: weakref.WeakKeyDictionary[Any, tuple[int, bytes]] = weakref.WeakKeyDictionary()
        self._strong: dict[int, tuple[Any, int, bytes]] = {}
        self.forgotten: deque[int] = deque()

    def lookup(self, func: Callable[..., Any]) -> tuple[int, bytes, bool]:
        """Return ``(fid, bytes, new)``; ``new`` is True the first time ``func`` is seen."""
        try:
            hit = self._weak.get(func)
        except TypeError:  # unhashable or not weak-referenceable callable
            hit = None
            entry = self._strong.get(id(func))
            if entry is not None and entry[0] is func:
                return entry[1], entry[2], False
        if hit is not None:
            return hit[0], hit[1], False
        data = dumps(func)
        with self._lock:
            fid = self._next
            self._next += 1
        try:
            self._weak[func] = (fid, data)
            weakref.finalize(func, self.forgotten.append, fid)
        except TypeError:
            self._strong[id(func)] = (func, fid, data)
        return fid, data, True
