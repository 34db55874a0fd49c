"""A worker: one process per slot, running one task at a time for its manager.

Started by the manager as ``python -m parsl_executor_htex.worker TASK_URL RESULT_URL RANK``: it
pulls tasks from its own ipc socket and pushes results to the manager's shared one. It
says it is ready, and then loops: receive a
task (function id, the function's bytes the first time, arguments), run it, send back the
result or the exception. Functions are deserialized once and cached by id. The worker
exits when the manager says stop or when its parent process is gone.
"""
from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import zmq

from parsl_executor_htex import messages as m
from parsl_executor_htex.serialize import loads, pack_exception, pack_result, result_error

__all__ = ["main", "run_worker"]


def run_worker(task_url: str, result_url: str, rank: int) -> None:
    """Serve tasks from the manager until told to stop."""
    parent = os.getppid()
    where = f"worker {rank} of pool {os.environ.get('PARSL_WORKER_POOL_ID', '?')} on {socket.gethostname()}"
    ctx = zmq.Context()
    tasks = ctx.socket(zmq.PULL)
    tasks.connect(task_url)
    results = ctx.socket(zmq.PUSH)
    results.setsockopt(zmq.LINGER, 1000)
    results.connect(result_url)
    results.send(m.READY + m.WORKER_RESULT.pack(rank, 0))
    header = m.WORKER_RESULT.pack
    cache: dict[int, Callable[..., Any]] = {}
    poller = zmq.Poller()
    poller.register(tasks, zmq.POLLIN)
    try:
        while True:
            if not poller.poll(1000):
                if os.getppid() != parent:
                    return
                continue
            msg = tasks.recv()
            tag = msg[:1]
            if tag == m.TASKS:
                tid, fid, fbytes, payload = m.decode(msg)
                try:
                    func = cache.get(fid)
                    if func is None:
                        func = loads(fbytes)
                        cache[fid] = func
                    args, kwargs = loads(payload)
                    value = func(*args, **kwargs)
                    try:
                        result = pack_result(value)
                    except Exception as e:
                        raise result_error(func, value, e) from e
                except BaseException as e:
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    result = pack_exception(e, where)
                results.send(m.RESULTS + header(rank, tid) + result)
            elif tag == m.FORGET:
                for fid in m.decode(msg):
                    cache.pop(fid, None)
            elif tag == m.STOP:
                return
    finally:
        tasks.close(linger=0)
        results.close(linger=1000)
        ctx.term()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    run_worker(args[0], args[1], int(args[2]))


if __name__ == "__main__":
    main()
