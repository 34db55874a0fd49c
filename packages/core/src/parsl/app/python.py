"""``PythonApp``: an app that runs a Python function (also the engine of join apps)."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from parsl.app.app import AppBase, check_walltime, drop_keywords
from parsl.app.errors import AppTimeout

if TYPE_CHECKING:
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.futures import AppFuture

__all__ = ["VARIANTS_PER_APP", "PythonApp", "timeout"]


_R = TypeVar("_R")


def _raise_in_thread(thread_id: int, exc_type: type[BaseException]) -> None:
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


#: how many wrapped functions (one per walltime and set of dropped keyword arguments) an app
#: keeps; past it the oldest is let go, and built again if a call needs it
VARIANTS_PER_APP = 64

_variants_lock = threading.Lock()


class PythonApp(AppBase, Generic[_R]):
    """A Python function run as a Parsl task: calling the app returns an ``AppFuture[_R]``.

    A call with ``walltime=`` or with Parsl keyword arguments the function does not declare runs
    a wrapper of the function. The wrapper is built once per walltime and set of such arguments
    and then reused, so an executor sees the same function object for every such call (HTEX
    serializes it once) and nothing accumulates per task.
    """

    def __init__(
        self,
        func: Callable[..., _R],
        data_flow_kernel: DataFlowKernel | None = None,
        cache: bool = False,
        executors: Sequence[str] | Literal["all"] = "all",
        ignore_for_cache: Sequence[str] | None = None,
        join: bool = False,
    ) -> None:
        super().__init__(func, data_flow_kernel, executors, cache, ignore_for_cache)
        self.join = join

    def _prepare(self) -> None:
        self._variants: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture[_R]:
        kwargs = self._invocation_kwargs(kwargs)
        func = self.func
        if kwargs:
            walltime = kwargs.get("walltime")
            check_walltime(walltime)
            drop = self._not_accepted.intersection(kwargs)
            if walltime is not None or drop:
                func = self._variant(walltime, drop)
        return self._kernel().submit(
            func,
            args,
            executors=self.executors,
            cache=self.cache,
            ignore_for_cache=self.ignore_for_cache,
            app_kwargs=kwargs,
            join=self.join,
        )

    def _variant(self, walltime: float | None, drop: frozenset[str]) -> Callable[..., Any]:
        """The function wrapped for this walltime and these dropped keywords: the same object each time."""
        key = (walltime, type(walltime), drop)  # the type too: 1 and 1.0 give different messages
        variants = self._variants
        func = variants.get(key)
        if func is not None:
            return func
        func = self.func
        if walltime is not None:
            func = timeout(func, walltime)
        if drop:
            func = drop_keywords(func, drop)
        with _variants_lock:
            func = variants.setdefault(key, func)
            if len(variants) > VARIANTS_PER_APP:
                del variants[next(iter(variants))]
        return func
