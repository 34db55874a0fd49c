"""The floor: what this machine does with the same work and no Parsl in it.

    python bench/floor.py NAME --n N [--prefetch K]

Each figure is a bare pipeline built only from pyzmq, cloudpickle and the standard
library, measured the way bench/workloads.py measures the Parsl workload it is the floor
of, and printed as the same kind of single JSON line (bench/run.py reads the last one):

* ``floor_throughput``: a client process sends ``n`` cloudpickled no-op tasks (one
  ``dumps`` per task) through a ZeroMQ ROUTER broker process to ``WORKERS`` worker
  processes, which load, call and return them (one ``dumps`` per result, one ``loads``
  in the client, result and task id checked); up to ``WINDOW`` tasks in flight. The
  broker gives each worker up to ``PREFETCH`` tasks (``--prefetch``) before its first
  result, one message per task: 2 by default, as many as an HTEX pool of short tasks
  holds per worker (one running, one prefetched). Tasks/s.
* ``floor_roundtrip``: the same pipeline with one task in flight: p50 ms of submit to
  result (floor of ``htex_roundtrip``).
* ``floor_pingpong``: two processes bouncing a one-byte message over one ZeroMQ hop,
  nothing pickled: p50 ms (the bare latency of one hop there and back).
* ``floor_echo_10mb_1hop``: a cloudpickled task with a 10 MiB ``bytes`` argument, sent
  to one worker process which calls it and returns the argument: median ms.
* ``floor_echo_10mb``: the same over ``HTEX_HOPS`` hops each way, as HTEX carries a task
  (workflow -> interchange -> pool -> worker and back), through relay processes that
  forward frames without looking at them (``zmq.proxy``): median ms (floor of
  ``htex_echo_10mb``).
* ``floor_threadpool``: ``concurrent.futures.ThreadPoolExecutor(2)``: submit ``n``
  no-op calls, then wait for all of them: tasks/s (floor of ``noop_throughput``).

Every hop is ``ipc://`` (a unix socket) in a private temporary directory. Task functions
are pickled by reference (this module is imported as ``floor`` when run as a script), as a
worker that already knows a function would need. Timing starts after every worker has
registered and a warm-up task has come back.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cloudpickle
import zmq

__all__ = ["FLOOR_WORKLOADS", "HTEX_HOPS", "WINDOW", "WORKERS", "echo", "main", "noop"]

WORKERS = 2  # as the htex workloads' max_workers_per_node
WINDOW = 1000  # tasks in flight in floor_throughput
PREFETCH = 2  # tasks the broker gives each worker ahead of its results (--prefetch)
ECHO_BYTES = 10 * 1024 * 1024
# Hops HTEX crosses each way: workflow -> interchange (the interchange's stdin pipe),
# interchange -> pool (unix stream socket, or TCP with ZeroMQ), pool -> worker (an OS pipe).
HTEX_HOPS = 3
READY = b"READY"


class WrongResult(Exception):
    """A floor pipeline returned an incorrect result."""


def noop() -> None:
    return None


def echo(data: bytes) -> bytes:
    return data


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise WrongResult(message)


def _tasks_module() -> Any:
    """This module under an importable name, so its functions pickle by reference."""
    if __name__ != "__main__":
        return sys.modules[__name__]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    return importlib.import_module("floor")


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _socket(ctx: zmq.Context, kind: int) -> zmq.Socket:
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    return sock


# --------------------------------------------------------------------------- processes
def _broker(front_url: str, back_url: str, workers: int, prefetch: int, ready: Any) -> None:
    """Clients' tasks in on ``front`` (ROUTER), out to workers with a free slot on ``back`` (ROUTER)."""
    ctx = zmq.Context()
    front = _socket(ctx, zmq.ROUTER)
    front.bind(front_url)
    back = _socket(ctx, zmq.ROUTER)
    back.bind(back_url)
    slots: deque[bytes] = deque()  # one entry per free slot of a worker
    pending: deque[list[bytes]] = deque()  # [client, task id, payload]
    registered = 0
    poller = zmq.Poller()
    poller.register(front, zmq.POLLIN)
    poller.register(back, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll():
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if sock is front:
                    pending.append(frames)
                elif len(frames) == 2:  # [worker, READY]
                    slots.extend([frames[0]] * prefetch)
                    registered += 1
                    if registered == workers:
                        ready.set()
                else:  # [worker, client, task id, result]
                    front.send_multipart(frames[1:])
                    slots.append(frames[0])
        while slots and pending:
            back.send_multipart([slots.popleft(), *pending.popleft()])


def _worker(back_url: str) -> None:
    """Load each task, call it, return the pickled result with the task's routing frames."""
    ctx = zmq.Context()
    sock = _socket(ctx, zmq.DEALER)
    sock.connect(back_url)
    sock.send(READY)
    loads, dumps = pickle.loads, cloudpickle.dumps
    recv, send = sock.recv_multipart, sock.send_multipart
    while True:
        client, tid, payload = recv()
        func, args, kwargs = loads(payload)
        send([client, tid, dumps(func(*args, **kwargs))])


def _echo_worker(url: str, raw: bool) -> None:
    """One hop's far end: return each message as it came (raw) or run it as a task."""
    ctx = zmq.Context()
    sock = _socket(ctx, zmq.PAIR)
    sock.bind(url)
    while True:
        frame = sock.recv(copy=False)
        if raw:
            sock.send(frame, copy=False)
            continue
        func, args, kwargs = pickle.loads(frame.buffer)
        sock.send(cloudpickle.dumps(func(*args, **kwargs)), copy=False)


def _relay(in_url: str, out_url: str) -> None:
    """A hop in the middle: frames forwarded both ways, unread (zmq.proxy, in C)."""
    ctx = zmq.Context()
    front = _socket(ctx, zmq.PAIR)
    front.bind(in_url)
    back = _socket(ctx, zmq.PAIR)
    back.connect(out_url)
    zmq.proxy(front, back)


@contextlib.contextmanager
def _processes() -> Iterator[_Processes]:
    procs = _Processes()
    try:
        yield procs
    finally:
        procs.stop()


class _Processes:
    """Child processes (spawned, daemonic) and a private directory for their ipc sockets."""

    def __init__(self) -> None:
        self.mp = multiprocessing.get_context("spawn")
        self.dir = tempfile.mkdtemp(prefix="parsl-floor-")
        self.procs: list[Any] = []

    def url(self, name: str) -> str:
        return f"ipc://{self.dir}/{name}"

    def start(self, target: Callable[..., None], *args: Any) -> None:
        proc = self.mp.Process(target=target, args=args, daemon=True)
        proc.start()
        self.procs.append(proc)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def _broker_client(procs: _Processes) -> tuple[zmq.Context, zmq.Socket]:
    """Start a broker and WORKERS workers; return a client socket once all have registered."""
    ready = procs.mp.Event()
    front, back = procs.url("front"), procs.url("back")
    procs.start(_broker, front, back, WORKERS, PREFETCH, ready)
    for _ in range(WORKERS):
        procs.start(_worker, back)
    _check(ready.wait(60), "the floor broker's workers did not register within 60 s")
    ctx = zmq.Context()
    sock = _socket(ctx, zmq.DEALER)
    sock.connect(front)
    return ctx, sock


# --------------------------------------------------------------------------- workloads
def floor_throughput(n: int) -> dict[str, Any]:
    fns = _tasks_module()
    dumps, loads, task = cloudpickle.dumps, pickle.loads, fns.noop
    with _processes() as procs:
        ctx, sock = _broker_client(procs)
        for _ in range(4 * WORKERS):  # warm-up: every worker has run a task
            sock.send_multipart([b"w", dumps((task, (), {}))])
        for _ in range(4 * WORKERS):
            sock.recv_multipart()
        send, recv = sock.send_multipart, sock.recv_multipart
        seen = bytearray(n)
        sent = done = 0
        start = time.perf_counter()
        while done < n:
            while sent < n and sent - done < WINDOW:
                send([sent.to_bytes(4, "little"), dumps((task, (), {}))])
                sent += 1
            tid, result = recv()
            _check(loads(result) is None, "a no-op returned a non-None result")
            seen[int.from_bytes(tid, "little")] += 1
            done += 1
        seconds = time.perf_counter() - start
        ctx.destroy(0)
    _check(seen.count(1) == n, "a task's result came back twice or not at all")
    return _rate(n, seconds, {"workers": WORKERS, "window": WINDOW, "prefetch": PREFETCH})


def floor_roundtrip(n: int) -> dict[str, Any]:
    fns = _tasks_module()
    dumps, loads, task = cloudpickle.dumps, pickle.loads, fns.noop
    perf = time.perf_counter
    with _processes() as procs:
        ctx, sock = _broker_client(procs)
        send, recv = sock.send_multipart, sock.recv_multipart
        latencies = []
        for i in range(-20, n):  # 20 untimed warm-up round trips
            t0 = perf()
            send([i.to_bytes(4, "little", signed=True), dumps((task, (), {}))])
            tid, result = recv()
            elapsed = perf() - t0
            _check(loads(result) is None and tid == i.to_bytes(4, "little", signed=True), "wrong result")
            if i >= 0:
                latencies.append(elapsed)
        ctx.destroy(0)
    return _latency(latencies, "p50_ms")


def floor_pingpong(n: int) -> dict[str, Any]:
    return _pair_pipeline(n, hops=1, payload=None)


def floor_echo_10mb_1hop(n: int) -> dict[str, Any]:
    return _pair_pipeline(n, hops=1, payload=os.urandom(ECHO_BYTES))


def floor_echo_10mb(n: int) -> dict[str, Any]:
    return _pair_pipeline(n, hops=HTEX_HOPS, payload=os.urandom(ECHO_BYTES))


def _pair_pipeline(n: int, hops: int, payload: bytes | None) -> dict[str, Any]:
    """n sequential round trips over ``hops`` hops: raw bytes (payload None) or an echo task."""
    fns = _tasks_module()
    perf = time.perf_counter
    with _processes() as procs:
        urls = [procs.url(f"hop{k}") for k in range(hops)]
        procs.start(_echo_worker, urls[-1], payload is None)
        for k in range(hops - 1):
            procs.start(_relay, urls[k], urls[k + 1])
        ctx = zmq.Context()
        sock = _socket(ctx, zmq.PAIR)
        sock.connect(urls[0])
        times = []
        for i in range(-3 if payload else -20, n):  # untimed warm-up first
            t0 = perf()
            if payload is None:
                sock.send(b"p")
                _check(sock.recv() == b"p", "the ping came back different")
            else:
                sock.send(cloudpickle.dumps((fns.echo, (payload,), {})), copy=False)
                back = pickle.loads(sock.recv(copy=False).buffer)
            elapsed = perf() - t0
            if payload is not None:
                _check(back == payload, "the 10 MiB echo came back different")
            if i >= 0:
                times.append(elapsed)
        ctx.destroy(0)
    if payload is None:
        return _latency(times, "p50_ms", {"hops": hops})
    seconds = sum(times)
    extra = {"hops": hops, "min_ms": min(times) * 1e3, "mb_per_s": 2 * len(payload) * n / seconds / 1e6}
    return _metric("median_ms", statistics.median(times) * 1e3, "ms", "lower", n, seconds, extra)


def floor_threadpool(n: int) -> dict[str, Any]:
    with ThreadPoolExecutor(2) as pool:
        _check(pool.submit(noop).result() is None, "a no-op returned a non-None result")
        start = time.perf_counter()
        futures = [pool.submit(noop) for _ in range(n)]
        ok = all(f.result() is None for f in futures)
        seconds = time.perf_counter() - start
    _check(ok, "a no-op returned a non-None result")
    return _rate(n, seconds, {"threads": 2})


FLOOR_WORKLOADS: dict[str, Callable[[int], dict[str, Any]]] = {
    f.__name__: f
    for f in (
        floor_throughput,
        floor_roundtrip,
        floor_pingpong,
        floor_echo_10mb_1hop,
        floor_echo_10mb,
        floor_threadpool,
    )
}


# --------------------------------------------------------------------------- records
def _metric(
    metric: str, value: float, unit: str, better: str, tasks: int, seconds: float, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "better": better,
        "tasks": tasks,
        "seconds": seconds,
        "tasks_per_s": tasks / seconds,
        **extra,
    }


def _rate(n: int, seconds: float, extra: dict[str, Any]) -> dict[str, Any]:
    return _metric("tasks_per_s", n / seconds, "tasks/s", "higher", n, seconds, extra)


def _latency(seconds_each: list[float], metric: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    ms = [x * 1e3 for x in seconds_each]
    more = {"p95_ms": _percentile(ms, 95), "mean_ms": statistics.fmean(ms), **(extra or {})}
    return _metric(metric, _percentile(ms, 50), "ms", "lower", len(ms), sum(seconds_each), more)


def main(argv: Sequence[str] | None = None) -> int:
    global PREFETCH
    parser = argparse.ArgumentParser(description="The floor: bare pyzmq/cloudpickle pipelines.")
    parser.add_argument("name", choices=sorted(FLOOR_WORKLOADS))
    parser.add_argument("--n", type=int, required=True, help="problem size (tasks or round trips)")
    parser.add_argument(
        "--prefetch",
        type=int,
        default=PREFETCH,
        help=f"broker workloads: tasks each worker may hold at once (default {PREFETCH})",
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be positive")
    if args.prefetch < 1:
        parser.error("--prefetch must be positive")
    PREFETCH = args.prefetch
    record = {"workload": args.name, "suite": "floor", "n": args.n, **FLOOR_WORKLOADS[args.name](args.n)}
    record.update({"zmq": zmq.__version__, "python": sys.version.split()[0]})
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
