"""The worker process: ``python -m parsl_example_executor.worker``.

Reads tasks from stdin and writes results to stdout, one frame each: a 12-byte header
(task id, payload length) then a pickle. A task is ``(func, args, kwargs)`` pickled with
cloudpickle; a result is ``(True, value)`` or ``(False, wrapper)``, where ``wrapper`` is a
:class:`parsl.app.errors.RemoteExceptionWrapper`: Parsl's way of sending a task's exception,
with its traceback, across processes. End of file on stdin means the executor is done (or
gone): the worker exits.

Before serving, the worker moves its result stream to a private descriptor and points fd 1
at stderr, so a task that prints cannot corrupt the stream. It imports ``parsl`` only when a
task fails (or when unpickling a task needs it), so it starts fast.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import IO, Any

HEADER = struct.Struct("!IQ")  # task id, payload length


def read_frame(stream: IO[bytes]) -> tuple[int, bytes] | None:
    """The next ``(task_id, payload)`` from ``stream``, or None at end of file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    task_id, length = HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return task_id, payload


def write_frame(stream: IO[bytes], task_id: int, payload: bytes) -> None:
    """Write one frame and flush it."""
    stream.write(HEADER.pack(task_id, len(payload)))
    stream.write(payload)
    stream.flush()


def _dumps(obj: Any) -> bytes:
    import cloudpickle

    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def pack_exception(exc: BaseException) -> bytes:
    """``(False, RemoteExceptionWrapper)`` for ``exc``; a stand-in when ``exc`` will not pickle.

    The wrapper carries the traceback (and the cause and context) beside the exception, so
    the exception arrives with exactly the attributes it had.
    """
    from parsl.app.errors import RemoteExceptionWrapper  # loaded on the first failure only

    try:
        return _dumps((False, RemoteExceptionWrapper(type(exc), exc, exc.__traceback__)))
    except Exception as e:
        stand_in = RuntimeError(f"{type(exc).__name__}: {exc} (the exception could not be pickled: {e})")
        return _dumps((False, RemoteExceptionWrapper(RuntimeError, stand_in, exc.__traceback__)))


def run_task(payload: bytes) -> bytes:
    """Run one pickled task and return its pickled outcome."""
    try:
        func, args, kwargs = pickle.loads(payload)
        result = func(*args, **kwargs)
    except BaseException as e:
        return pack_exception(e)
    try:
        return _dumps((True, result))
    except Exception as e:
        return pack_exception(
            TypeError(f"the result of type {type(result).__qualname__} could not be pickled: {e}")
        )


def main() -> int:
    tasks = os.fdopen(os.dup(0), "rb")
    results = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a task reading stdin sees end of file, not our task stream
    os.dup2(2, 1)  # a task printing writes to stderr, not into our result stream
    os.close(devnull)
    while True:
        frame = read_frame(tasks)
        if frame is None:
            return 0
        task_id, payload = frame
        write_frame(results, task_id, run_task(payload))
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
