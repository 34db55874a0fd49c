"""Benchmark workloads, written against the public Parsl API only.

The same file runs unchanged against our parsl and against upstream parsl:

    python bench/workloads.py NAME --n N [--encryption default|on|off]

There are two suites:

* ``threads`` workloads load the *default* configuration (``parsl.load(Config())``,
  i.e. each side's default thread pool executor);
* ``htex_*`` workloads load the same HighThroughputExecutor configuration on both
  sides (see :func:`htex_config`): 2 workers, one LocalProvider block, encryption
  at each side's default unless ``--encryption on|off`` forces it.

Each invocation runs a warm-up task, times only the workflow itself with
``time.perf_counter()`` (except ``htex_startup``, which times ``parsl.load`` up to
the first result), verifies the results (raising if they are wrong, so a broken
implementation cannot look fast), then cleans up and prints a single JSON line
as the last line of stdout::

    {"workload": "chain", "n": 1000, "metric": "tasks_per_s", "value": 2439.0,
     "unit": "tasks/s", "better": "higher", "tasks": 1000, "seconds": 0.41,
     "tasks_per_s": 2439.0, "parsl_version": "...", "python": "..."}

``better`` says whether a higher or a lower ``value`` is better. Workloads may add
extra fields (``p95_ms``, ``startup_s``, ...). Bash apps inherit this process's
stdout, so their output may precede that line; the harness (bench/run.py) reads
the last JSON line only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import parsl
from parsl import bash_app, python_app
from parsl.config import Config


class Measurement(NamedTuple):
    """A throughput measurement: ``tasks`` completed in ``seconds`` (reported as tasks/s)."""

    tasks: int
    seconds: float


class Metric(NamedTuple):
    """Any other measurement: ``value`` in ``unit``; ``better`` is "higher" or "lower"."""

    metric: str
    value: float
    unit: str
    better: str
    tasks: int
    seconds: float
    extra: dict[str, Any]


class WrongResult(Exception):
    """A workload produced an incorrect result."""


Workload = Callable[[int], "Measurement | Metric"]
WORKLOADS: dict[str, Workload] = {}
SUITE: dict[str, str] = {}  # workload name -> "threads" | "htex"

# perf_counter() just before parsl.load() and at the first completed task (set by warm_up()).
LOAD_STARTED: float = 0.0
FIRST_RESULT: float | None = None


def workload(func: Workload) -> Workload:
    WORKLOADS[func.__name__] = func
    SUITE[func.__name__] = "htex" if func.__name__.startswith("htex_") else "threads"
    return func


def htex_config(encryption: str = "default", hosts: dict[str, Any] | None = None) -> Config:
    """The HTEX configuration, identical on both sides: 2 workers, one local block.

    ``encryption`` "default" leaves ``encrypted`` at each side's default (upstream:
    off, ours: on); "on"/"off" set it explicitly on both sides.

    ``hosts`` (``--hosts``, written by bench/multihost.py): pools on other hosts instead, one
    block of 2 workers in each network namespace listed, reaching the interchange at
    ``hosts["address"]`` over the hosts' links, on ``hosts["worker_port"]`` when given.
    """
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    kwargs: dict[str, Any] = {}
    if encryption != "default":
        kwargs["encrypted"] = encryption == "on"
    provider = LocalProvider(init_blocks=1, max_blocks=1)
    if hosts is not None:
        blocks = len(hosts["netns"])
        provider = LocalProvider(
            init_blocks=blocks, min_blocks=blocks, max_blocks=blocks, launcher=netns_launcher(hosts["netns"])
        )
        kwargs["address"] = hosts["address"]
        if hosts.get("worker_port"):  # a slow link's relay forwards this port (bench/multihost.py)
            kwargs["worker_port"] = hosts["worker_port"]
    return Config(
        executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2, provider=provider, **kwargs)],
        strategy="none" if hosts is not None else "simple",
    )


def netns_launcher(namespaces: list[str]) -> Any:
    """A launcher (of whichever Parsl runs this) putting the Nth block in ``namespaces[N % len]``
    by wrapping the single-node launch text in ``ip netns exec``."""
    import shlex

    from parsl.launchers import SingleNodeLauncher
    from parsl.launchers.base import Launcher

    class NetnsLauncher(Launcher):
        def __init__(self, debug: bool = True) -> None:
            super().__init__(debug=debug)
            self.inner = SingleNodeLauncher(debug=debug)
            self.count = 0

        def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, *rest: Any) -> str:
            ns = namespaces[self.count % len(namespaces)]
            self.count += 1
            inner = self.inner(command, tasks_per_node, nodes_per_block, *rest)
            return f"exec ip netns exec {shlex.quote(ns)} /bin/bash -c {shlex.quote(inner)}"

    return NetnsLauncher()


def warm_up(app: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one task to completion; the first one ever also records FIRST_RESULT."""
    global FIRST_RESULT
    result = app(*args, **kwargs).result()
    if FIRST_RESULT is None:
        FIRST_RESULT = time.perf_counter()
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


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


@python_app
def echo_bytes(data: bytes) -> bytes:
    return data


@workload
def noop_throughput(n: int) -> Measurement:
    """Submit n no-op apps, then wait for all of them."""
    warm_up(noop)
    start = time.perf_counter()
    futures = [noop() for _ in range(n)]
    results = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    check(len(results) == n and all(r is None for r in results), "noop returned a non-None result")
    return Measurement(n, elapsed)


@workload
def roundtrip(n: int) -> Measurement:
    """n sequential submit-and-wait round trips of a no-op app."""
    warm_up(noop)
    start = time.perf_counter()
    results = [noop().result() for _ in range(n)]
    elapsed = time.perf_counter() - start
    check(all(r is None for r in results), "noop returned a non-None result")
    return Measurement(n, elapsed)


@workload
def chain(n: int) -> Measurement:
    """A linear dependency chain of n increments: inc(inc(...inc(0)))."""
    warm_up(inc, 0)
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
    warm_up(total, inputs=[inc(0)])
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
    warm_up(echo, -1)
    start = time.perf_counter()
    futures = [echo(i) for i in range(n)]
    results = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    check(results == [0] * n, "a bash app returned a non-zero exit code")
    return Measurement(n, elapsed)


@workload
def monitored_throughput(n: int) -> Measurement:
    """noop_throughput with a MonitoringHub writing every task's rows to SQLite."""
    return noop_throughput(n)


# ---------------------------------------------------------------- HTEX suite
# Same apps as above, run on the HighThroughputExecutor of htex_config().


@workload
def htex_monitored_throughput(n: int) -> Measurement:
    """htex_throughput with a MonitoringHub (default resource monitoring, 30 s interval)."""
    return noop_throughput(n)


@workload
def htex_throughput(n: int) -> Measurement:
    """Submit n no-op apps to HTEX, then wait for all of them (tasks/s)."""
    return noop_throughput(n)


@workload
def htex_roundtrip(n: int) -> Metric:
    """n sequential submit-and-wait round trips of a no-op app: p50 (and p95) in ms."""
    warm_up(noop)
    for _ in range(min(20, n)):  # warm caches on every worker before timing
        noop().result()
    perf = time.perf_counter
    latencies = []
    start = perf()
    for _ in range(n):
        t0 = perf()
        r = noop().result()
        latencies.append(perf() - t0)
        check(r is None, "noop returned a non-None result")
    elapsed = perf() - start
    ms = [x * 1e3 for x in latencies]
    return Metric(
        "p50_ms",
        percentile(ms, 50),
        "ms",
        "lower",
        n,
        elapsed,
        {
            "p95_ms": percentile(ms, 95),
            "p99_ms": percentile(ms, 99),
            "mean_ms": statistics.fmean(ms),
            "tasks_per_s": n / elapsed,
        },
    )


@workload
def htex_startup(n: int) -> Metric:
    """Seconds from parsl.load() to the first completed task (n is ignored)."""
    check(warm_up(noop) is None, "noop returned a non-None result")
    assert FIRST_RESULT is not None
    seconds = FIRST_RESULT - LOAD_STARTED
    return Metric("startup_s", seconds, "s", "lower", 1, seconds, {})


@workload
def htex_chain(n: int) -> Metric:
    """A dependency chain of n increments on HTEX: milliseconds per hop."""
    tasks, seconds = chain(n)
    return Metric(
        "ms_per_hop", seconds * 1e3 / n, "ms/hop", "lower", tasks, seconds, {"tasks_per_s": tasks / seconds}
    )


@workload
def htex_fanout(n: int) -> Metric:
    """n independent apps plus one reduce over all of them on HTEX: seconds."""
    tasks, seconds = fanout(n)
    return Metric("seconds", seconds, "s", "lower", tasks, seconds, {"tasks_per_s": tasks / seconds})


ECHO_BYTES = 10 * 1024 * 1024


@workload
def htex_echo_10mb(n: int) -> Metric:
    """n sequential echoes of a 10 MiB bytes argument (returned back): median ms per echo."""
    data = os.urandom(ECHO_BYTES)
    warm_up(noop)
    check(echo_bytes(data).result() == data, "echo of 10 MiB came back different")  # warm-up
    perf = time.perf_counter
    times = []
    start = perf()
    for _ in range(n):
        t0 = perf()
        back = echo_bytes(data).result()
        times.append(perf() - t0)
        check(back == data, "echo of 10 MiB came back different")
    elapsed = perf() - start
    ms = [x * 1e3 for x in times]
    return Metric(
        "median_ms",
        statistics.median(ms),
        "ms",
        "lower",
        n,
        elapsed,
        {"min_ms": min(ms), "max_ms": max(ms), "mb_per_s": 2 * ECHO_BYTES * n / elapsed / 1e6},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(WORKLOADS))
    parser.add_argument("--n", type=int, required=True, help="problem size (number of tasks)")
    parser.add_argument(
        "--encryption",
        choices=("default", "on", "off"),
        default="default",
        help="htex workloads: leave `encrypted` at its default, or force it on/off",
    )
    parser.add_argument(
        "--hosts",
        metavar="FILE",
        help="htex workloads: run the pools on the hosts this JSON file lists (bench/multihost.py)",
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be positive")
    hosts = None
    if args.hosts:
        with open(args.hosts) as f:
            hosts = json.load(f)

    global LOAD_STARTED
    suite = SUITE[args.name]
    config = htex_config(args.encryption, hosts) if suite == "htex" else Config()
    monitoring_dir = None
    if "monitored" in args.name:
        import tempfile

        from parsl.monitoring import MonitoringHub

        monitoring_dir = tempfile.mkdtemp(prefix="parsl-bench-monitoring-")
        config.monitoring = MonitoringHub(logging_endpoint=f"sqlite:///{monitoring_dir}/monitoring.db")
    LOAD_STARTED = time.perf_counter()
    dfk = parsl.load(config)
    encrypted = getattr(dfk.executors.get("htex"), "encrypted", None) if suite == "htex" else None
    try:
        if hosts is not None:  # every host's pool connected before anything is timed
            deadline = time.monotonic() + 120
            while len(dfk.executors["htex"].connected_managers()) < len(hosts["netns"]):
                check(time.monotonic() < deadline, "the pools on the hosts did not all connect in 120 s")
                time.sleep(0.1)
        outcome = WORKLOADS[args.name](args.n)
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    if monitoring_dir is not None:  # every task must have reached the database
        import shutil
        import sqlite3

        with sqlite3.connect(f"{monitoring_dir}/monitoring.db") as db:
            rows = db.execute("select count(*) from task").fetchone()[0]
        shutil.rmtree(monitoring_dir, ignore_errors=True)
        check(rows >= args.n, f"monitoring database has {rows} task rows for {args.n} tasks")

    if isinstance(outcome, Metric):
        metric, value, unit, better = outcome.metric, outcome.value, outcome.unit, outcome.better
        tasks, seconds, extra = outcome.tasks, outcome.seconds, outcome.extra
    else:
        tasks, seconds = outcome
        metric, value, unit, better, extra = "tasks_per_s", tasks / seconds, "tasks/s", "higher", {}
    record: dict[str, Any] = {
        "workload": args.name,
        "suite": suite,
        "n": args.n,
        "metric": metric,
        "value": value,
        "unit": unit,
        "better": better,
        "tasks": tasks,
        "seconds": seconds,
        "tasks_per_s": tasks / seconds,
        **extra,
    }
    if FIRST_RESULT is not None:
        record["startup_s"] = FIRST_RESULT - LOAD_STARTED
    if suite == "htex":
        record["encrypted"] = encrypted
    record.update({"parsl_version": parsl.__version__, "python": sys.version.split()[0]})
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
