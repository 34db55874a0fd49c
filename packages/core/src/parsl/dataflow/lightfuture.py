"""Futures that cost the garbage collector nothing beyond themselves until someone waits.

A ``concurrent.futures.Future()`` makes, at once, a ``threading.Condition`` (which binds five
of its lock's methods on itself), an ``RLock``, the Condition's waiter deque and two lists:
six objects the cyclic garbage collector tracks besides the future, although most futures
of a workflow are never blocked on (a task's future is completed by a callback, or only
read once it is done). With tens of thousands of tasks queued those objects are most of
what each collection walks.

:class:`LightFuture` is a ``Future`` subclass that makes none of them up front. Until a
thread has to wait on it (``result()`` or ``exception()`` before it is done,
``concurrent.futures.wait``/``as_completed``), its state changes happen under one lock
shared by all light futures, held for a few bytecodes. The first waiter gives the future
its own condition (a :class:`SlimCondition`, made under that shared lock), and from then
on every state change of that future takes the condition, exactly as ``Future`` does. A
state change checks under the shared lock whether a condition exists, so it either sees
the condition and notifies through it, or happens before the condition is made and is
then seen by the waiter, which checks the state under its condition before it waits.

``_condition``, ``_waiters`` and ``_done_callbacks`` are still there for code that reads
them (``concurrent.futures.wait`` does): properties that make them on first use. Reading
``done()``, or ``result()`` of a finished future, takes no lock at all.

Imports nothing from parsl: executors in other packages use it too.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures._base import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    LOGGER,
    PENDING,
    RUNNING,
    CancelledError,
    InvalidStateError,
)
from concurrent.futures._base import TimeoutError as FutureTimeoutError
from typing import Any, TypeVar

__all__ = ["LightFuture", "SlimCondition", "init_future"]

_T = TypeVar("_T")

#: guards the state of every light future that has no condition of its own yet
_SHARED = threading.Lock()

_DONE = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED))
_CANCELLED = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED))


class SlimCondition(threading.Condition):
    """``threading.Condition(threading.RLock())`` that binds no methods on each instance."""

    def __init__(self) -> None:  # Condition.__init__ is what this avoids
        self._lock = threading.RLock()
        self._waiters: deque[Any] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    # what Condition.wait()/notify() use, read from an RLock as Condition.__init__ would
    def _release_save(self) -> Any:
        return self._lock._release_save()  # type: ignore[attr-defined]

    def _acquire_restore(self, state: Any) -> None:
        self._lock._acquire_restore(state)  # type: ignore[attr-defined]

    def _is_owned(self) -> bool:
        return bool(self._lock._is_owned())  # type: ignore[attr-defined]


class LightFuture(Future[_T]):
    """A ``concurrent.futures.Future`` whose condition and lists are made on first use.

    Same methods, same states, same errors; ``isinstance(f, concurrent.futures.Future)``
    holds and ``concurrent.futures.wait``/``as_completed`` work on it. Subclasses need not
    call ``__init__``: every field has its initial value on the class.
    """

    # initial values; an instance stores its own only once it changes them
    _state: str = PENDING
    _result: Any = None
    _exception: BaseException | None = None
    _cond: SlimCondition | None = None
    _waiter_list: list[Any] | None = None
    _callbacks: list[Callable[[Future[Any]], object]] | None = None
    #: when an executor began running this future's work (``time.time()``), set by executors
    #: that run it themselves (``ThreadPoolExecutor``); None where that is not known
    time_running: float | None = None

    def __init__(self) -> None:  # Future.__init__ makes what this class makes lazily
        pass

    # ------------------------------------------------------------ lazy internals
    @property  # type: ignore[override]
    def _condition(self) -> SlimCondition:
        cond = self._cond
        if cond is None:
            with _SHARED:
                cond = self._cond
                if cond is None:
                    cond = self._cond = SlimCondition()
        return cond

    @property
    def _waiters(self) -> list[Any]:
        # read with the condition held (concurrent.futures.wait/as_completed, and below)
        waiters = self._waiter_list
        if waiters is None:
            waiters = self._waiter_list = []
        return waiters

    @property
    def _done_callbacks(self) -> list[Callable[[Future[Any]], object]]:
        lock = self._lock()
        try:
            callbacks = self._callbacks
            if callbacks is None:
                callbacks = self._callbacks = []
            return callbacks
        finally:
            lock.release()

    def _lock(self) -> Any:
        """Acquire and return what guards this future's state: its condition, or the shared lock."""
        cond = self._cond
        if cond is None:
            _SHARED.acquire()
            cond = self._cond
            if cond is None:
                return _SHARED
            _SHARED.release()
        cond.acquire()
        return cond

    def _notify(self, lock: Any, event: str) -> None:
        """Wake threads waiting on this future (there are none while it has no condition).

        ``event`` names the waiter method to call: ``add_result``, ``add_exception`` or
        ``add_cancelled`` (what ``concurrent.futures.wait`` and ``as_completed`` listen to).
        """
        if lock is not _SHARED:
            waiters = self._waiter_list
            if waiters:
                for waiter in waiters:
                    getattr(waiter, event)(self)
            lock.notify_all()

    def _invoke_callbacks(self) -> None:
        callbacks = self._callbacks
        if callbacks:
            for callback in callbacks:
                try:
                    callback(self)
                except Exception:
                    LOGGER.exception("exception calling callback for %r", self)

    # ------------------------------------------------------------------ reading
    def done(self) -> bool:
        return self._state in _DONE

    def cancelled(self) -> bool:
        return self._state in _CANCELLED

    def running(self) -> bool:
        return self._state == RUNNING

    def _outcome(self) -> Any:
        exc = self._exception
        if exc is not None:
            try:
                raise exc
            finally:
                del exc, self  # no reference cycle through the traceback
        return self._result

    def _finished(self, timeout: float | None) -> None:
        """Return once this future is FINISHED; CancelledError if it was cancelled,
        TimeoutError if it is still pending or running after ``timeout`` seconds."""
        state = self._state
        if state == FINISHED:
            return
        if state not in _CANCELLED:
            cond = self._condition  # made now: this thread may have to wait
            with cond:
                if self._state in (PENDING, RUNNING):
                    cond.wait(timeout)
                state = self._state
            if state == FINISHED:
                return
            if state not in _CANCELLED:
                raise FutureTimeoutError()
        raise CancelledError()

    def result(self, timeout: float | None = None) -> _T:
        if self._state != FINISHED:
            self._finished(timeout)
        return self._outcome()  # type: ignore[no-any-return]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._state != FINISHED:
            self._finished(timeout)
        return self._exception

    def add_done_callback(self, fn: Callable[[Future[_T]], object]) -> None:
        lock = self._lock()
        try:
            if self._state not in _DONE:
                callbacks = self._callbacks
                if callbacks is None:
                    self._callbacks = [fn]
                else:
                    callbacks.append(fn)
                return
        finally:
            lock.release()
        try:
            fn(self)
        except Exception:
            LOGGER.exception("exception calling callback for %r", self)

    # ------------------------------------------------------------------ writing
    def set_result(self, result: _T) -> None:
        lock = self._lock()
        try:
            if self._state in _DONE:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result = result
            self._state = FINISHED
            self._notify(lock, "add_result")
        finally:
            lock.release()
        self._invoke_callbacks()

    def set_exception(self, exception: BaseException | None) -> None:
        lock = self._lock()
        try:
            if self._state in _DONE:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._exception = exception
            self._state = FINISHED
            self._notify(lock, "add_exception")
        finally:
            lock.release()
        self._invoke_callbacks()

    def cancel(self) -> bool:
        lock = self._lock()
        try:
            state = self._state
            if state in (RUNNING, FINISHED):
                return False
            if state in _CANCELLED:
                return True
            self._state = CANCELLED
            if lock is not _SHARED:
                lock.notify_all()
        finally:
            lock.release()
        self._invoke_callbacks()
        return True

    def set_running_or_notify_cancel(self) -> bool:
        lock = self._lock()
        try:
            state = self._state
            if state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                self._notify(lock, "add_cancelled")
                return False
            if state == PENDING:
                self._state = RUNNING
                return True
            LOGGER.critical("Future %s in unexpected state: %s", id(self), state)
            raise RuntimeError("Future in unexpected state")
        finally:
            lock.release()

    def __repr__(self) -> str:
        state = self._state
        name = type(self).__name__
        if state == FINISHED:
            if self._exception is not None:
                return f"<{name} at {id(self):#x} state=finished raised {type(self._exception).__name__}>"
            return f"<{name} at {id(self):#x} state=finished returned {type(self._result).__name__}>"
        return f"<{name} at {id(self):#x} state={state.lower()}>"


def init_future(fut: Future[Any]) -> None:
    """Kept for subclasses of :class:`LightFuture` written against the earlier API: a no-op.

    A ``LightFuture`` subclass needs no initialisation; calling this on another ``Future``
    is a mistake, named here.
    """
    if not isinstance(fut, LightFuture):
        raise TypeError(f"init_future() takes a LightFuture (subclass it), not {type(fut).__name__}")
