"""A worker: one process per slot, running one task at a time for its manager.

Started by the manager as ``python -m parsl_executor_htex.worker TASK_FD RESULT_FD RANK``,
with two pipes inherited from it (see ``messages.write_frames``): it reads tasks from the
first and writes results to the second. It says it is ready, and then loops: receive a task
(function id, the function's bytes the first time, arguments), run it, send back the result or
the exception. Functions are deserialized once and cached by id. The worker exits when the
manager says stop or when the manager is gone: end of file on the task pipe between tasks,
and, while a task runs, a watchdog thread that sees the pipe hang up (or the worker
re-parented), so a worker never outlives its pool, however long its task. It imports
neither ZeroMQ nor the rest of the executor, so it starts quickly.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import select
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from parsl_executor_htex import messages as m
from parsl_executor_htex.mpi import MPITask, restore, run_with_environment
from parsl_executor_htex.serialize import loads, loads_payload, pack_exception, pack_result, result_error

__all__ = [
    "TASK_TELEMETRY_ATTRIBUTE",
    "TelemetryChannel",
    "main",
    "run_payload",
    "run_worker",
    "watch_manager",
]

#: ParslExecutor's telemetry contract (``parsl.executors.base.TASK_TELEMETRY_ATTRIBUTE``), spelled
#: out because workers do not import parsl; a test checks that the two agree
TASK_TELEMETRY_ATTRIBUTE = "parsl_monitoring_send"

logger = logging.getLogger(__name__)


def _execute_packed(buffer: bytes) -> Any:
    """What a payload without a ``task_executor`` is: ``parsl.serialize.pack_apply_message`` output."""
    from parsl.serialize import unpack_apply_message  # imports parsl: only for such tasks

    func, args, kwargs = unpack_apply_message(buffer)
    return func(*args, **kwargs)


def run_payload(
    task: m.PayloadTask, executors: dict[str, Callable[..., Any]]
) -> tuple[Callable[..., Any], Any]:
    """Run a ``submit_payload`` task: ``f(buffer, *a, **k)`` for ``context["task_executor"] =
    {"f": "module.function", "a": a, "k": k}`` (``f`` imported once, kept in ``executors``).
    Returns the function and its return value, which is the task's result."""
    buffer = task.buffer
    if type(buffer) is m.Blob:
        buffer = bytes(buffer.buf)
    spec = task.context.get("task_executor")
    if not spec:
        return _execute_packed, _execute_packed(buffer)
    path = spec["f"]
    func = executors.get(path)
    if func is None:
        module, _, name = path.rpartition(".")
        func = getattr(importlib.import_module(module), name)
        executors[path] = func
    return func, func(buffer, *spec.get("a", ()), **spec.get("k", {}))


def watch_manager(task_fd: int, period: float = 1.0) -> threading.Thread:
    """Exit this process as soon as the manager is gone, even in the middle of a task.

    A daemon thread waits for the task pipe to hang up (the manager's end closed: it exited
    or was killed) and, every ``period`` seconds, checks that the manager is still our parent
    (for platforms whose poll() does not report a pipe's hang-up)."""
    parent = os.getppid()

    def watch() -> None:
        poller = select.poll()
        poller.register(task_fd, 0)  # no events asked for: only hang-up and errors wake us
        while True:
            hung_up = poller.poll(period * 1000)
            if hung_up or os.getppid() != parent:
                logger.warning("The worker pool is gone: worker %d exits", os.getpid())
                os._exit(1)  # the running task cannot be finished for anyone

    thread = threading.Thread(target=watch, name="watch-manager", daemon=True)
    thread.start()
    return thread


class TelemetryChannel:
    """What a monitored task's wrapper sends its monitoring messages through, in a worker.

    Calling it sends a batch to the manager at once, as a MONITOR message (the wrapper's
    sampler thread does so while a long task runs); :meth:`hold` keeps a batch to go with the
    task's result instead (its last messages: one pipe write per task, not two, and one
    message per result batch from the pool, see ``messages.py``). The worker takes what is held
    with :meth:`take` when it writes the result.
    """

    __slots__ = ("held", "rank", "write")

    def __init__(self, write: Callable[[bytes], None], rank: int):
        self.write = write  # writes one frame to the manager, under the worker's write lock
        self.rank = rank
        self.held: list[dict[str, Any]] = []

    def __call__(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.write(m.MONITOR + m.WORKER_RESULT.pack(self.rank, 0, 0) + pickle.dumps(messages, protocol=5))
        except OSError as e:  # the manager is gone: the worker stops at its next read
            logger.debug("Dropping monitoring messages: %s", e)

    def hold(self, messages: list[dict[str, Any]]) -> None:
        """Keep ``messages`` to go with the running task's result."""
        self.held.extend(messages)

    def take(self) -> bytes:
        """The held messages, pickled (empty bytes when none), to put in the result's message."""
        if not self.held:
            return b""
        held, self.held = self.held, []
        return pickle.dumps(held, protocol=5)

    def flush(self) -> None:
        """Send the held messages now (the task ends without a result: the worker exits)."""
        if self.held:
            held, self.held = self.held, []
            self(held)


def run_worker(task_fd: int, result_fd: int, rank: int) -> None:
    """Serve tasks from the manager until told to stop."""
    where = f"worker {rank} of pool {os.environ.get('PARSL_WORKER_POOL_ID', '?')} on {socket.gethostname()}"
    read, write_frames, header = m.read_frames, m.write_frames, m.WORKER_RESULT.pack
    # Results come from this thread; monitoring messages may also come from a task's own
    # threads (periodic resource samples), so writes to the manager take turns.
    lock = threading.Lock()

    def write(fd: int, frames: list[Any]) -> None:
        with lock:
            write_frames(fd, frames)

    channel = TelemetryChannel(lambda frame: write(result_fd, [frame]), rank)
    watch_manager(task_fd)
    write(result_fd, [m.READY + header(rank, 0, 0)])
    # Bounded by the workflow: its FunctionCache holds functions weakly and sends FORGET for each one
    # garbage-collected, so this holds only functions still alive there (see serialize.py).
    cache: dict[int, Callable[..., Any]] = {}
    executors: dict[str, Callable[..., Any]] = {}  # submit_payload's task executors, by import path
    while True:
        try:
            msg, extra = read(task_fd)
        except EOFError:  # the manager is gone
            return
        tag = msg[:1]
        if tag == m.TASKS:
            tid, fid, fbytes, payload = m.decode(msg, extra)
            saved = None
            if type(payload) is MPITask:  # MPI mode: run with the nodes the pool lent this task
                saved = run_with_environment(payload.env)
                payload = payload.payload
            try:
                if type(payload) is m.PayloadTask:
                    func, value = run_payload(payload, executors)
                else:
                    func = cache.get(fid)
                    if func is None:
                        func = loads(fbytes)
                        cache[fid] = func
                        if hasattr(func, TASK_TELEMETRY_ATTRIBUTE):  # a wrapper asking for a channel
                            setattr(func, TASK_TELEMETRY_ATTRIBUTE, channel)
                    args, kwargs = loads_payload(payload)
                    value = func(*args, **kwargs)
                try:
                    result = pack_result(value)
                except Exception as e:
                    raise result_error(func, value, e) from e
            except BaseException as e:
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    # as in Parsl, sys.exit() in a task ends this worker: the pool fails the
                    # task with WorkerLost and starts a new worker (the task's last monitoring
                    # messages go first)
                    channel.flush()
                    raise
                result = pack_exception(e, where)
            if saved is not None:
                restore(saved)
            # the task's last monitoring messages (if any) ride in the result's message
            telemetry = channel.take() if channel.held else b""
            if type(result) is bytes:
                write(result_fd, [m.RESULTS + header(rank, tid, len(telemetry)) + telemetry + result])
            else:  # (bytes, blobs): the blobs follow as their own frames
                head = m.RESULTS + header(rank, tid, len(telemetry)) + telemetry + result[0]
                write(result_fd, [head, *(b.buf for b in result[1])])
        elif tag == m.FORGET:
            for fid in m.decode(msg, extra):
                cache.pop(fid, None)
        elif tag == m.STOP:
            return


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    run_worker(int(args[0]), int(args[1]), int(args[2]))


if __name__ == "__main__":
    main()
