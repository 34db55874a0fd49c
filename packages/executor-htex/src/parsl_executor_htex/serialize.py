"""Serialization on the HTEX wire: cloudpickle for functions and data, results tagged ok/error.

Arguments and results are *payloads*: ``bytes``, or ``(bytes, [Blob, ...])`` when they hold
bulk data. Plain data (ints, floats, strings, small bytes, None) is pickled with ``pickle``
(about 8x cheaper than cloudpickle for a small tuple); anything else with cloudpickle, so
functions and classes defined in ``__main__`` still travel. Buffers of 64 KiB and more
(``bytes`` arguments and results at the top level, and anything pickle protocol 5 hands out of
band: bytearray, numpy arrays) become :class:`~parsl_executor_htex.messages.Blob` frames that
no process copies on the way (see ``messages.py``). Mutable buffers are copied once when
serialized, so changing one after ``submit`` cannot change the task's input.

A task's exception travels with its traceback, cause and context as plain data beside it
(a chain record, see ``parsl.app.remote_traceback``), never as an attribute added to it, so it
arrives with exactly the attributes it had, and its remote frames are rebuilt as a real
traceback. Functions sent by value keep their file name, so those frames show source lines.

The worker side imports nothing from ``parsl``, so the worker processes start without loading
the kernel (only :func:`unpack_result`, on the workflow's side, does);
:class:`CloudpickleSerializer` (the ``cp`` serializer of ``parsl.serialize``) lives in core.
"""

from __future__ import annotations

import functools
import io
import logging
import pickle
import threading
import traceback
import types
import weakref
from collections import ChainMap, deque
from collections.abc import Callable
from typing import Any, ClassVar

import cloudpickle

from parsl_executor_htex.messages import Blob

__all__ = [
    "FunctionCache",
    "dumps",
    "dumps_args",
    "loads",
    "loads_payload",
    "pack_exception",
    "pack_result",
    "result_error",
    "submit_error",
    "unpack_result",
]

logger = logging.getLogger(__name__)

PROTOCOL = pickle.HIGHEST_PROTOCOL
loads = pickle.loads


#: buffers at least this large travel as their own zero-copy frames
BIG = 64 * 1024
_PLAIN = frozenset({int, float, str, bool, type(None), complex})


def _code_with_filename(make: Any, args: tuple[Any, ...], filename: str) -> types.CodeType:
    """Rebuild a code object from cloudpickle's reduction and give it back its file name."""
    code = make(*args)
    return code if code.co_filename == filename else code.replace(co_filename=filename)


class _Pickler(cloudpickle.Pickler):
    """cloudpickle, keeping the file name of functions sent by value.

    cloudpickle 3.1 renames their code ``<dynamic-code>``, so a task's traceback would show
    neither the user's file nor its source lines; this keeps the real name.
    """

    _base_code_reduce = cloudpickle.Pickler.dispatch_table[types.CodeType]

    def _code_reduce(code: types.CodeType) -> Any:  # type: ignore[misc]  # a dispatch-table entry
        make, args = _Pickler._base_code_reduce(code)
        return _code_with_filename, (make, args, code.co_filename)

    dispatch_table: ClassVar[ChainMap[type, Any]] = ChainMap(
        {types.CodeType: _code_reduce}, cloudpickle.Pickler.dispatch_table
    )


def _cloudpickle(
    obj: Any, protocol: int, buffer_callback: Callable[[pickle.PickleBuffer], Any] | None = None
) -> bytes:
    with io.BytesIO() as f:
        _Pickler(f, protocol=protocol, buffer_callback=buffer_callback).dump(obj)
        return f.getvalue()


def dumps(obj: Any) -> bytes:
    """Serialize ``obj`` with cloudpickle (functions defined in ``__main__`` travel by value)."""
    return _cloudpickle(obj, PROTOCOL)


class _BigBytes:
    """Stands in for a large ``bytes`` object so that pickle sends it out of band."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def __reduce_ex__(self, protocol: int) -> Any:
        return bytes, (pickle.PickleBuffer(self.data),)


def _big(v: Any) -> Any:
    return _BigBytes(v) if type(v) is bytes and len(v) >= BIG else v


def _dumps_payload(obj: Any, plain: bool) -> Any:
    """``obj`` as a payload: pickle if ``plain`` else cloudpickle, big buffers as blobs."""
    blobs: list[Blob] = []

    def out_of_band(pb: pickle.PickleBuffer) -> bool:
        try:
            view = pb.raw()
        except BufferError:  # not contiguous: keep it in the pickle
            return True
        if view.nbytes < BIG:
            return True
        blobs.append(Blob(pb if view.readonly else bytes(view)))
        return False

    data = (pickle.dumps if plain else _cloudpickle)(obj, protocol=5, buffer_callback=out_of_band)
    return (data, blobs) if blobs else data


def dumps_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The payload of a task's arguments."""
    plain = big = False
    if len(args) + len(kwargs) < 16:
        plain = True
        for v in (*args, *kwargs.values()):
            t = type(v)
            if t is bytes:
                big = big or len(v) >= BIG
            elif t not in _PLAIN:
                plain = False
    else:
        big = True  # not checked: let _big look
    if big:
        args = tuple(_big(v) for v in args)
        kwargs = {k: _big(v) for k, v in kwargs.items()}
    return _dumps_payload((args, kwargs), plain)


def loads_payload(payload: Any) -> Any:
    """The object of a payload made by :func:`dumps_args` or :func:`pack_result`."""
    if type(payload) is bytes:
        return loads(payload)
    data, blobs = payload
    return loads(data, buffers=[b.buf for b in blobs])


def __getattr__(name: str) -> Any:
    if name == "CloudpickleSerializer":  # parsl.serialize's; importing parsl is slow for workers
        from parsl.serialize.concretes import CloudpickleSerializer

        return CloudpickleSerializer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pack_result(value: Any) -> Any:
    """A task's return value as a payload (see :func:`unpack_result`)."""
    t = type(value)
    return _dumps_payload((True, _big(value)), t in _PLAIN or t is bytes)


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def submit_error(func: Any, what: str, exc: BaseException) -> Exception:
    """SerializationError for a function or its arguments that will not serialize, naming the cause."""
    from parsl.serialize.errors import SerializationError

    return SerializationError(f"{_name(func)} ({what} could not be serialized: {type(exc).__name__}: {exc})")


def result_error(func: Any, value: Any, exc: BaseException) -> Exception:
    """SerializationError for a task result that will not serialize, naming its type."""
    from parsl.serialize.errors import SerializationError

    return SerializationError(
        f"{_name(func)} (its result of type {type(value).__module__}."
        f"{type(value).__qualname__} could not be serialized: {type(exc).__name__}: {exc})"
    )


def _frames(tb: Any) -> tuple[tuple[str, int, str], ...]:
    return tuple((f.f_code.co_filename, n, f.f_code.co_name) for f, n in traceback.walk_tb(tb))


def _chain(
    exc: BaseException, seen: dict[int, BaseException], stand_in: Callable[[BaseException], BaseException]
) -> Any:
    """``exc``'s chain record, in the form ``parsl.app.remote_traceback.restore_chain`` reads.

    Built here, not imported, so workers never load ``parsl``. ``stand_in`` replaces each
    exception in the chain (identity, or a picklable substitute).
    """
    seen[id(exc)] = exc

    def link(c: BaseException | None) -> Any:
        if c is None:
            return None
        if id(c) in seen:  # a reference to an exception recorded elsewhere in this chain
            return (stand_in(c), None, None, None, False)
        if len(seen) >= 32:
            return None
        return _chain(c, seen, stand_in)

    cause, context = link(exc.__cause__), link(exc.__context__)
    return (stand_in(exc), _frames(exc.__traceback__), cause, context, exc.__suppress_context__)


def pack_exception(exc: BaseException, where: str = "") -> bytes:
    """Serialize an exception raised by a task, with its traceback, cause and context as data.

    The frames travel beside the exception (not on it), so it arrives with exactly the
    attributes it had; :func:`unpack_result` rebuilds its traceback from them.
    """
    try:
        data = dumps((False, (_chain(exc, {}, _same), where)))
        pickle.loads(data)  # some exceptions pickle but cannot be rebuilt (urllib's HTTPError)
        return data
    except Exception:  # some exception of the chain will not travel: replace those by stand-ins
        stand_ins: dict[int, BaseException] = {}
        return dumps((False, (_chain(exc, {}, lambda e: _picklable(e, stand_ins)), where)))


def _same(exc: BaseException) -> BaseException:
    return exc


def _picklable(exc: BaseException, memo: dict[int, BaseException]) -> BaseException:
    """``exc`` if it pickles, else a RuntimeError carrying its type and message."""
    sub = memo.get(id(exc))
    if sub is None:
        try:
            pickle.loads(dumps(exc))
            sub = exc
        except Exception as e:
            sub = RuntimeError(
                f"{type(exc).__name__}: {exc} (unpicklable exception: {type(e).__name__}: {e})"
            )
        memo[id(exc)] = sub
    return sub


def unpack_result(payload: Any) -> tuple[bool, Any]:
    """Return ``(True, value)`` or ``(False, exception)`` from :func:`pack_result`/`pack_exception`."""
    ok, body = loads_payload(payload)
    if ok:
        return True, body
    record, where = body
    from parsl.app.remote_traceback import restore_chain  # the workflow's side: parsl is loaded

    exc = restore_chain(record)
    if where and logger.isEnabledFor(logging.DEBUG):
        logger.debug("Task failed on %s: %s: %s", where, type(exc).__name__, exc)
    return False, exc


class FunctionCache:
    """Serialize each function once and give it a small integer id.

    Entries are keyed by the function's identity and hold it weakly: when the function is
    garbage-collected its entry goes and its id is queued in ``forgotten``, which the executor
    sends on as a FORGET so the interchange, the pools and the workers drop their copies too.
    Every per-function cache of HTEX therefore holds at most the functions alive in the
    workflow process (the executor keeps each one alive until its last task's result). A
    callable that cannot be weakly referenced (an instance of a class with ``__slots__`` and no
    ``__weakref__``) is kept until the executor is gone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        #: id(func) -> (weak reference to func, or func itself when it has none; fid; bytes)
        self._entries: dict[int, tuple[Any, int, bytes]] = {}
        self.forgotten: deque[int] = deque()
        #: how many times a function was serialized: once per distinct function object
        self.serialized = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, func: Callable[..., Any]) -> tuple[int, bytes, bool]:
        """Return ``(fid, bytes, new)``; ``new`` is True the first time ``func`` is seen."""
        key = id(func)
        entry = self._entries.get(key)
        if entry is not None:
            ref = entry[0]
            if ref is func or (type(ref) is weakref.ref and ref() is func):
                return entry[1], entry[2], False
        data = dumps(func)
        with self._lock:
            fid = self._next
            self._next += 1
            self.serialized += 1
        held: Any
        try:
            held = weakref.ref(func, functools.partial(self._gone, key, fid))
        except TypeError:
            held = func
            logger.debug("%r cannot be weakly referenced: kept for the executor's lifetime", func)
        self._entries[key] = (held, fid, data)
        return fid, data, True

    def live(self) -> dict[int, bytes]:
        """``{fid: bytes}`` of every function still alive: what a new interchange must be sent."""
        out = {}
        for held, fid, data in list(self._entries.values()):
            if type(held) is not weakref.ref or held() is not None:
                out[fid] = data
        return out

    def _gone(self, key: int, fid: int, _ref: Any = None) -> None:
        """Drop the entry of a garbage-collected function and queue its id to be forgotten."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] == fid:
            del self._entries[key]
        self.forgotten.append(fid)
