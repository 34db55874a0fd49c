"""Futures that cost the garbage collector less: same class, same behaviour, lighter Condition.

``concurrent.futures.Future()`` makes a ``threading.Condition``, whose ``__init__`` stores five
bound methods of its lock on the instance (``acquire``, ``release`` and three private ones).
A future nobody blocks on never uses them, yet each is an object the garbage collector tracks:
with the Condition, its lock and its waiter deque, 8 of the ~17 objects it walked per
AppFuture of a run. :class:`SlimCondition` reaches the lock's methods through its class
instead, and :func:`init_future` gives a future one, with exactly the attributes
``Future.__init__`` sets (a test compares them on every supported Python). Everything that
reads those attributes (``Future``'s own methods, ``concurrent.futures.wait`` and
``as_completed``) works unchanged: they are ``Future`` instances.

Imports nothing from parsl: executors in other packages use it too.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from concurrent.futures._base import PENDING
from typing import Any, TypeVar

__all__ = ["LightFuture", "SlimCondition", "init_future"]

_T = TypeVar("_T")


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


def init_future(fut: Future[Any]) -> None:
    """What ``Future.__init__`` does, with a :class:`SlimCondition`: call it instead of that."""
    fut._condition = SlimCondition()  # type: ignore[attr-defined]
    fut._state = PENDING  # type: ignore[attr-defined]
    fut._result = None  # type: ignore[attr-defined]
    fut._exception = None  # type: ignore[attr-defined]
    fut._waiters = []  # type: ignore[attr-defined]
    fut._done_callbacks = []  # type: ignore[attr-defined]


class LightFuture(Future[_T]):
    """A ``concurrent.futures.Future`` made with :func:`init_future`."""

    def __init__(self) -> None:
        init_future(self)
