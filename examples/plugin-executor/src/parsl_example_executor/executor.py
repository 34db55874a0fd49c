"""``SubprocessExecutor``: run each task in one of a pool of long-lived worker subprocesses.

One thread per worker in the workflow process takes the next task from a shared queue,
writes it to its worker's stdin and waits for the result on the worker's stdout (framing in
:mod:`parsl_example_executor.worker`). A worker that dies fails the task it was running with
:class:`WorkerLost`; the next task that thread takes starts a fresh worker.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

import cloudpickle

from parsl.app.errors import RemoteExceptionWrapper
from parsl.errors import ConfigurationError
from parsl.executors.base import ParslExecutor
from parsl.executors.errors import InvalidResourceSpecification
from parsl.utils import RepresentationMixin
from parsl_example_executor.worker import read_frame, write_frame

__all__ = ["SubprocessExecutor", "WorkerLost", "remote_exception"]

logger = logging.getLogger(__name__)

_STOP = object()


class WorkerLost(Exception):
    """The worker subprocess running a task exited before returning its result."""

    def __init__(self, slot: int, pid: int, returncode: int | None):
        super().__init__(slot, pid, returncode)
        self.slot, self.pid, self.returncode = slot, pid, returncode

    def __str__(self) -> str:
        return (
            f"worker {self.slot} (pid {self.pid}) exited with code {self.returncode} while running the task"
        )


class SubprocessExecutor(ParslExecutor, RepresentationMixin):
    """Run tasks in ``workers`` worker subprocesses of ``python`` (default: this interpreter).

    Functions and arguments travel with cloudpickle, so apps defined in a script's
    ``__main__`` work. Tasks see ``PARSL_WORKER_RANK`` and ``PARSL_WORKER_COUNT``. No
    ``parsl_resource_specification`` keys are understood; any is rejected at submit.

    Parameters: ``label`` (default ``'subprocess'``), ``workers`` (default 2), ``python``,
    ``storage_access`` (staging providers), ``working_dir`` (the workers' current directory).
    """

    PLUGIN_NAME = "subprocess"

    def __init__(
        self,
        label: str = "subprocess",
        workers: int = 2,
        python: str | None = None,
        storage_access: Sequence[Any] | None = None,
        working_dir: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigurationError(
                f"SubprocessExecutor(workers={workers!r}): use a positive int, e.g. workers=4"
            )
        self.label = label
        self.workers = workers
        self.python = python or sys.executable
        self.storage_access = list(storage_access) if storage_access is not None else None
        self.working_dir = working_dir
        self._queue: SimpleQueue = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._procs: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._shutdown = False
        self._abandon = False

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        log_dir = os.path.join(self.run_dir, self.label)
        os.makedirs(log_dir, exist_ok=True)
        self._log_dir = log_dir
        for slot in range(self.workers):
            self._procs[slot] = self._spawn(slot)
            t = threading.Thread(
                target=self._serve, args=(slot,), daemon=True, name=f"SubprocessExecutor-{self.label}-{slot}"
            )
            t.start()
            self._threads.append(t)

    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Future:
        if resource_specification:
            raise InvalidResourceSpecification(
                set(resource_specification),
                "SubprocessExecutor takes no parsl_resource_specification; remove it from the app call",
            )
        if self._shutdown:
            raise RuntimeError(f"SubprocessExecutor {self.label!r} has been shut down")
        payload = cloudpickle.dumps((func, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        fut: Future = Future()
        with self._lock:
            self._next_id += 1
            task_id = self._next_id
        self._queue.put((task_id, fut, payload))
        return fut

    def shutdown(self, block: bool = True) -> None:
        """Stop the workers once queued tasks are done; ``block=False`` kills them at once."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        if not block:
            self._abandon = True
            for proc in list(self._procs.values()):
                proc.kill()
        for _ in self._threads:
            self._queue.put(_STOP)
        if block:
            for t in self._threads:
                t.join()
        logger.debug("SubprocessExecutor %s shut down", self.label)

    # -- workers -----------------------------------------------------------
    def _spawn(self, slot: int) -> subprocess.Popen:
        env = dict(os.environ, PARSL_WORKER_RANK=str(slot), PARSL_WORKER_COUNT=str(self.workers))
        with open(os.path.join(self._log_dir, f"worker_{slot}.stderr"), "ab") as err:
            proc = subprocess.Popen(
                [self.python, "-m", "parsl_example_executor.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=self.working_dir,
                env=env,
                start_new_session=True,
            )
        logger.debug("SubprocessExecutor %s started worker %d (pid %d)", self.label, slot, proc.pid)
        return proc

    def _serve(self, slot: int) -> None:
        """Feed one worker: take a task, send it, wait for its result, repeat."""
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                task_id, fut, payload = item
                if not fut.set_running_or_notify_cancel():
                    continue  # cancelled while queued
                if self._abandon:
                    fut.set_exception(
                        RuntimeError(f"SubprocessExecutor {self.label!r} was shut down before the task ran")
                    )
                    continue
                self._run_one(slot, task_id, fut, payload)
                del item, fut, payload
        finally:
            proc = self._procs.pop(slot, None)
            if proc is not None:
                _stop(proc)

    def _run_one(self, slot: int, task_id: int, fut: Future, payload: bytes) -> None:
        proc = self._procs.get(slot)
        if proc is None or proc.poll() is not None:
            proc = self._procs[slot] = self._spawn(slot)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            write_frame(proc.stdin, task_id, payload)
            frame = read_frame(proc.stdout)
        except OSError:
            frame = None
        if frame is None or frame[0] != task_id:
            if frame is not None:  # out of step with the worker: it cannot be trusted
                proc.kill()
            fut.set_exception(WorkerLost(slot, proc.pid, proc.wait()))
            self._procs.pop(slot, None)
            return
        try:
            ok, body = pickle.loads(frame[1])
        except Exception as e:
            fut.set_exception(RuntimeError(f"the result of task {task_id} could not be unpickled: {e}"))
            return
        if ok:
            fut.set_result(body)
            return
        fut.set_exception(remote_exception(body))

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers."""
        return [p.pid for p in self._procs.values() if p.poll() is None]

    def monitor_resources(self) -> bool:
        return False

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("SubprocessExecutor cannot be pickled: it holds live worker processes")


def remote_exception(wrapper: RemoteExceptionWrapper) -> BaseException:
    """The exception a worker sent, its traceback showing the worker's frames only.

    ``reraise()`` rebuilds the remote traceback; the entries that raising it here adds in
    front (this function's and ``reraise``'s own) are dropped, so the exception reads as
    it would had the task run in this process.
    """
    try:
        wrapper.reraise()
    except BaseException as e:
        exc = e
    else:  # pragma: no cover - reraise always raises
        raise AssertionError("RemoteExceptionWrapper.reraise() returned")
    remote = len(wrapper.e_traceback or ())
    entries = []
    tb = exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if remote == 0:
        exc.__traceback__ = None
    elif remote <= len(entries):
        exc.__traceback__ = entries[-remote]
    return exc


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Close the worker's stdin (it exits at end of file); kill it if it has not within ``grace``."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
