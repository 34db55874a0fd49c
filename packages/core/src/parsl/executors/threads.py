"""``ThreadPoolExecutor``: run apps on threads in the workflow's own process.

A deliberately small pool: worker threads pull work from one ``SimpleQueue`` and
complete the futures themselves, so each task costs one queue put and one get.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from queue import SimpleQueue
from time import time
from typing import TYPE_CHECKING, Any

from parsl.dataflow.lightfuture import LightFuture
from parsl.errors import ConfigurationError
from parsl.executors.base import ParslExecutor
from parsl.executors.errors import InvalidResourceSpecification
from parsl.monitoring.radios.base import RadioConfig, record_radio
from parsl.monitoring.radios.multiprocessing import MultiprocessingQueueRadio
from parsl.utils import RepresentationMixin

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging

__all__ = ["ThreadPoolExecutor"]

logger = logging.getLogger(__name__)

#: what a worker thread takes from the queue: a task, or None (shutdown: one per thread)
_WorkItem = tuple["LightFuture[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def _worker(queue: SimpleQueue[_WorkItem | None], running: list[Any], slot: int) -> None:
    get = queue.get
    while True:
        item = get()
        if item is None:
            return
        fut, func, args, kwargs = item
        if not fut.set_running_or_notify_cancel():
            continue
        fut.time_running = time()
        running[slot] = fut
        try:
            result = func(*args, **kwargs)
        except BaseException as e:
            running[slot] = None
            fut.set_exception(e)
            del e
        else:
            running[slot] = None
            fut.set_result(result)
        del item, fut, func, args, kwargs


class ThreadPoolExecutor(ParslExecutor, RepresentationMixin):
    """Run tasks on a pool of ``max_threads`` threads in the workflow process.

    Parameters: ``label`` (default ``'threads'``), ``max_threads`` (default 2),
    ``thread_name_prefix``, ``storage_access`` (staging providers), ``working_dir``,
    ``remote_monitoring``, ``remote_monitoring_radio`` (recorded, default
    ``MultiprocessingQueueRadio()`` as in Parsl; monitoring needs no radio here) and the 0.9-era ``managed``.
    """

    PLUGIN_NAME = "threads"

    def __init__(
        self,
        label: str = "threads",
        max_threads: int | None = 2,
        thread_name_prefix: str = "",
        storage_access: Sequence[Staging] | None = None,
        working_dir: str | None = None,
        remote_monitoring: bool = False,
        managed: bool = True,
        remote_monitoring_radio: RadioConfig | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(label, str) or not label:
            raise ConfigurationError(f"ThreadPoolExecutor(label={label!r}): use a non-empty string")
        if max_threads is None:
            max_threads = 2
        if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 1:
            raise ConfigurationError(
                f"ThreadPoolExecutor(max_threads={max_threads!r}): use a positive int, e.g. max_threads=4"
            )
        self.label = label
        self.max_threads = max_threads
        self.thread_name_prefix = thread_name_prefix
        self.storage_access = list(storage_access) if storage_access is not None else None
        self.working_dir = working_dir
        self.remote_monitoring = remote_monitoring
        self.managed = managed
        self.remote_monitoring_radio = record_radio(
            f"ThreadPoolExecutor {label!r}", remote_monitoring_radio, default=MultiprocessingQueueRadio
        )
        self._queue: SimpleQueue[_WorkItem | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        # the future each worker thread is running now (None while it waits): see running()
        self._running: list[Any] = []
        self._shutdown = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._shutdown:
                # loading the same Config again (as notebooks do) starts a fresh pool
                self._queue = SimpleQueue()
                self._threads = []
                self._shutdown = False
            if self._threads:
                return
            prefix = self.thread_name_prefix or f"ThreadPoolExecutor-{self.label}"
            self._running = running = [None] * self.max_threads
            for i in range(self.max_threads):
                t = threading.Thread(
                    target=_worker, args=(self._queue, running, i), name=f"{prefix}_{i}", daemon=True
                )
                t.start()
                self._threads.append(t)

    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Future[Any]:
        if resource_specification:  # an empty dict is fine, as in Parsl
            raise InvalidResourceSpecification(
                set(resource_specification),
                "Parsl resource specification is not supported in ThreadPool Executor. Remove "
                "parsl_resource_specification from the app call, or send the app to an executor "
                "that takes one (e.g. HighThroughputExecutor)",
            )
        if self._shutdown:
            raise RuntimeError(f"ThreadPoolExecutor {self.label!r} has been shut down")
        if not self._threads:
            self.start()
        fut: LightFuture[Any] = LightFuture()
        self._queue.put((fut, func, args, kwargs))
        return fut

    def shutdown(self, block: bool = True) -> None:
        """Stop the worker threads once the queued work is done (waits if ``block``)."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            for _ in self._threads:
                self._queue.put(None)
        if block:
            current = threading.current_thread()
            for t in self._threads:
                if t is not current:
                    t.join()
        logger.debug("ThreadPoolExecutor %s shut down", self.label)

    def monitor_resources(self) -> bool:
        return False

    def running(self) -> list[Future[Any]]:
        """The futures of the tasks this pool's threads are running now (at most ``max_threads``).

        Each has ``time_running``, when its thread began it, as every future of this executor
        has once it started: telemetry (a monitoring plugin) reads both, so tasks need no wrapper
        to say when they ran.
        """
        return [fut for fut in list(self._running) if fut is not None]

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("ThreadPoolExecutor cannot be pickled: it holds live threads")
