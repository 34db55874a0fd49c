"""``ParslPoolExecutor``: Parsl behind the ``concurrent.futures.Executor`` interface.

Code written for a ``ProcessPoolExecutor`` can run its calls on a DataFlowKernel instead::

    with ParslPoolExecutor(config) as pool:
        print(list(pool.map(f, range(10))))

The futures it returns are Parsl AppFutures (``concurrent.futures.Future`` subclasses), so
``concurrent.futures.wait``/``as_completed`` accept them and they can be passed to apps and
to further ``submit`` calls as dependencies.
"""

from __future__ import annotations

import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from parsl.app.python import PythonApp

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self  # annotations only

    from parsl.config import Config
    from parsl.dataflow.dflow import DataFlowKernel

__all__ = ["ParslPoolExecutor"]

T = TypeVar("T")


class ParslPoolExecutor(Executor):
    """A ``concurrent.futures.Executor`` whose calls run as Parsl tasks.

    Give exactly one of ``config`` (the pool loads a DataFlowKernel from it, makes it the
    current one, and cleans it up at ``shutdown()``) or ``dfk`` (an already loaded
    DataFlowKernel the pool borrows: it never cleans that one up). ``executors`` picks the
    executor labels the pool's tasks may run on (``'all'`` by default).

    As in Parsl, ``map`` does not cancel the remaining calls when one fails or the timeout
    expires, and leaving a ``with`` block of a pool built on a borrowed ``dfk`` does nothing.
    """

    def __init__(
        self,
        config: Config | None = None,
        dfk: DataFlowKernel | None = None,
        executors: Literal["all"] | list[str] = "all",
    ) -> None:
        if config is not None and dfk is not None:
            raise ValueError(
                "ParslPoolExecutor: Specify only one of config or dfk: config= loads a new DataFlowKernel "
                "that the pool owns, dfk= borrows one that is already loaded"
            )
        if config is None and dfk is None:
            raise ValueError(
                "ParslPoolExecutor: Must specify one of config or dfk, e.g. "
                "ParslPoolExecutor(config=Config(...)) or ParslPoolExecutor(dfk=parsl.dfk())"
            )
        self._config = config
        self.executors = executors
        self._apps: dict[Callable[..., Any], PythonApp] = {}
        self._lock = threading.Lock()
        # futures of this pool, for shutdown(): waited on when the kernel is borrowed, cancelled
        # on cancel_futures=True
        self._submitted: weakref.WeakSet[Future] = weakref.WeakSet()
        if config is not None:
            from parsl.dataflow.dflow import DataFlowKernelLoader

            dfk = DataFlowKernelLoader.load(config)
        self._dfk: DataFlowKernel | None = dfk

    @property
    def owns_dfk(self) -> bool:
        """True when the pool loaded its DataFlowKernel itself (from ``config``)."""
        return self._config is not None

    @property
    def app_count(self) -> int:
        """How many functions this pool has made apps for."""
        return len(self._apps)

    def get_app(self, fn: Callable[..., Any]) -> PythonApp:
        """The PythonApp this pool runs ``fn`` as (made on first use, then reused)."""
        app = self._apps.get(fn)
        if app is None:
            with self._lock:
                app = self._apps.get(fn)
                if app is None:
                    app = PythonApp(fn, data_flow_kernel=self._dfk, executors=self.executors)
                    self._apps[fn] = app
        return app

    def _live_app(self, fn: Callable[..., Any]) -> PythonApp:
        if self._dfk is None:
            raise RuntimeError(
                "ParslPoolExecutor has been shut down: no new calls can be submitted; create a new pool"
            )
        return self.get_app(fn)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        """Run ``fn(*args, **kwargs)`` as a Parsl task; return its AppFuture."""
        fut = self._live_app(fn)(*args, **kwargs)
        self._submitted.add(fut)
        return fut

    def map(
        self,
        fn: Callable[..., T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[T]:
        """Like the builtin ``map(fn, *iterables)``, with the calls run as Parsl tasks.

        Results come back in input order. ``timeout`` (seconds, counted from this call) bounds
        the wait for the whole iteration: a result not ready by then raises
        ``concurrent.futures.TimeoutError`` (the builtin ``TimeoutError`` from Python 3.11 on).
        ``chunksize`` is accepted and ignored (each call is its own task). With ``buffersize``,
        at most that many calls are submitted ahead of the results consumed so far.
        """
        if buffersize is not None and (
            isinstance(buffersize, bool) or not isinstance(buffersize, int) or buffersize < 1
        ):
            raise ValueError(f"ParslPoolExecutor.map(buffersize={buffersize!r}): use a positive int or None")
        deadline = None if timeout is None else time.monotonic() + timeout
        app = self._live_app(fn)
        calls = zip(*iterables, strict=False)  # shortest iterable wins, as in Executor.map
        pending = [app(*args) for args in (calls if buffersize is None else islice(calls, buffersize))]
        self._submitted.update(pending)
        pending.reverse()  # pop() from the end hands results back in input order

        def results() -> Iterator[T]:
            while pending:
                fut = pending.pop()
                if buffersize is not None:
                    for args in islice(calls, 1):
                        nxt = app(*args)
                        self._submitted.add(nxt)
                        pending.insert(0, nxt)
                if deadline is None:
                    yield fut.result()
                else:
                    yield fut.result(max(0.0, deadline - time.monotonic()))
                del fut  # hold no reference to a future already handed back

        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting calls. With ``wait``, first wait for the calls already made.

        A pool that loaded its own DataFlowKernel waits for all of that kernel's tasks and then
        cleans it up; a pool on a borrowed kernel waits only for its own calls and leaves the
        kernel running. ``cancel_futures`` cancels this pool's calls that have not started.
        """
        with self._lock:
            dfk, self._dfk = self._dfk, None
        if dfk is None:
            return
        if cancel_futures:
            running = [f for f in list(self._submitted) if not f.done() and not f.cancel()]
            if running:
                warnings.warn(
                    f"ParslPoolExecutor.shutdown(cancel_futures=True): {len(running)} call(s) had "
                    f"already started and cannot be cancelled; they run to completion",
                    UserWarning,
                    stacklevel=2,
                )
        if wait:
            if self.owns_dfk:
                dfk.wait_for_current_tasks()
            else:
                from concurrent.futures import wait as wait_all

                wait_all(list(self._submitted))
        if self.owns_dfk:
            dfk.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        if self.owns_dfk:
            self.shutdown(wait=True)
        return False
