"""Benchmark workloads, written against the public Parsl API only.

The same file runs unchanged against our parsl and against upstream parsl:

    python bench/workloads.py NAME --n N

Each invocation loads the *default* configuration (``parsl.load(Config())``),
runs one warm-up task, times only the workflow itself with
``time.perf_counter()``, verifies the results (raising if they are wrong, so a
broken implementation cannot look fast), then cleans up and prints a single
JSON line as the last line of stdout::

    {"workload": "chain", "n": 1000, "tasks": 1000, "seconds": 0.41,
     "tasks_per_s": 2439.0, "parsl_version": "...", "python": "..."}

Bash apps inherit this process's stdout, so their output may precede that
line; the harness (bench/run.py) reads the last JSON line only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import parsl
from parsl import bash_app, python_app
from parsl.config import Config


class Measurement(NamedTuple):
    tasks: int
    seconds: float


class WrongResult(Exception):
    """A workload produced an incorrect result."""


Workload = Callable[[int], Measurement]
WORKLOADS: dict[str, Workload] = {}


def workload(func: Workload) -> Workload:
    WORKLOADS[func.__name__] = func
    return func


def check(ok: bool, message: str) -> None:
    if not ok:
        raise WrongResult(message)


@python_app
def noop() -> None:
    return None


@python_app
def inc(x: int) -> int:
    return x + 1


@python_app
def total(inputs: Sequence[int] = ()) -> int:
    return sum(inputs)


@bash_app
def echo(i: int) -> str:
    return f"echo {i}"


@workload
def noop_throughput(n: int) -> Measurement:
    """Submit n no-op apps, then wait for all of them."""
    noop().result()
    start = time.perf_counter()
    futures = [noop() for _ in range(n)]
    results = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    check(len(results) == n and all(r is None for r in results), "noop returned a non-None result")
    return Measurement(n, elapsed)


@workload
def roundtrip(n: int) -> Measurement:
    """n sequential submit-and-wait round trips of a no-op app."""
    noop().result()
    start = time.perf_counter()
    results = [noop().result() for _ in range(n)]
    elapsed = time.perf_counter() - start
    check(all(r is None for r in results), "noop returned a non-None result")
    return Measurement(n, elapsed)


@workload
def chain(n: int) -> Measurement:
    """A linear dependency chain of n increments: inc(inc(...inc(0)))."""
    inc(0).result()
    start = time.perf_counter()
    future = inc(0)
    for _ in range(n - 1):
        future = inc(future)
    result = future.result()
    elapsed = time.perf_counter() - start
    check(result == n, f"chain of {n} produced {result!r}")
    return Measurement(n, elapsed)


@workload
def fanout(n: int) -> Measurement:
    """n independent apps, then one reduce app taking all n futures as inputs=."""
    total(inputs=[inc(0)]).result()
    start = time.perf_counter()
    futures = [inc(i) for i in range(n)]
    result = total(inputs=futures).result()
    elapsed = time.perf_counter() - start
    expected = n * (n + 1) // 2
    check(result == expected, f"fanout sum was {result!r}, expected {expected}")
    return Measurement(n + 1, elapsed)


@workload
def bash(n: int) -> Measurement:
    """n independent bash apps (echo), then wait for all; each must exit 0."""
    echo(-1).result()
    start = time.perf_counter()
    futures = [echo(i) for i in range(n)]
    results = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    check(results == [0] * n, "a bash app returned a non-zero exit code")
    return Measurement(n, elapsed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(WORKLOADS))
    parser.add_argument("--n", type=int, required=True, help="problem size (number of tasks)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be positive")

    parsl.load(Config())
    try:
        tasks, seconds = WORKLOADS[args.name](args.n)
    finally:
        parsl.dfk().cleanup()
        parsl.clear()

    record = {
        "workload": args.name,
        "n": args.n,
        "tasks": tasks,
        "seconds": seconds,
        "tasks_per_s": tasks / seconds,
        "parsl_version": parsl.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
