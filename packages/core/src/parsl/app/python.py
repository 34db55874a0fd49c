"""``PythonApp``: an app that runs a Python function (also the engine of join apps)."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from parsl.app.app import AppBase
from parsl.app.errors import AppTimeout

__all__ = ["PythonApp", "timeout"]


def _raise_in_thread(thread_id: int, exc_type: type) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))


def _clear_async_exc(thread_id: int) -> None:
    """Withdraw an asynchronous exception posted to a thread but not delivered yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


def timeout(f: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """Wrap ``f`` so a call running longer than ``seconds`` raises AppTimeout.

    The timeout is raised in the running thread as an asynchronous exception. When the timer
    fires just as ``f`` returns, the exception is withdrawn before the wrapper returns, so it
    can never surface later in the worker thread that ran the task.
    """
    name = getattr(f, "__name__", f)

    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        done = threading.Lock()
        tid = threading.get_ident()

        def expire() -> None:
            if done.acquire(blocking=False):
                _raise_in_thread(tid, AppTimeout)

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        try:
            try:
                return f(*args, **kwargs)
            finally:
                timer.cancel()
                if not done.acquire(blocking=False):
                    # the timer fired: let it finish posting AppTimeout, then withdraw it
                    timer.join()
                    _clear_async_exc(tid)
                    raise AppTimeout(f"App {name} exceeded walltime: {seconds} seconds")
        except AppTimeout:
            raise AppTimeout(f"App {name} exceeded walltime: {seconds} seconds") from None

    return wrapper


class PythonApp(AppBase):
    """A Python function run as a Parsl task."""

    def __init__(
        self,
        func: Callable[..., Any],
        data_flow_kernel: Any = None,
        cache: bool = False,
        executors: Any = "all",
        ignore_for_cache: Sequence[str] | None = None,
        join: bool = False,
    ) -> None:
        super().__init__(
            func,
            data_flow_kernel=data_flow_kernel,
            executors=executors,
            cache=cache,
            ignore_for_cache=ignore_for_cache,
        )
        self.join = join

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs = self._invocation_kwargs(kwargs)
        func = self.func
        if kwargs:
            walltime = kwargs.get("walltime")
            if walltime is not None:
                if isinstance(walltime, bool) or not isinstance(walltime, (int, float)) or walltime <= 0:
                    raise ValueError(f"walltime={walltime!r}: use a positive number of seconds")
                func = timeout(func, walltime)
            func = self._strip_unaccepted(func, kwargs)
        return self._kernel().submit(
            func,
            args,
            executors=self.executors,
            cache=self.cache,
            ignore_for_cache=self.ignore_for_cache,
            app_kwargs=kwargs,
            join=self.join,
        )
