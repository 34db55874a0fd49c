"""CPU per task of each process of an HTEX workload, read from /proc (Linux only).

Usage::

    python bench/hop_cpu.py htex_monitored_throughput --small 2000 --large 12000 [--pairs 2]

Runs ``bench/workloads.py WORKLOAD --n N`` for a small and a large N (through the script
named by ``HOP_WRAP`` when it is set: a wrapper that patches something for an A/B comparison,
then runs its arguments with ``runpy``), samples ``utime + stime`` of every process in the
run's tree every 20 ms (keeping each process's last reading, so processes that exit are
counted), and prints, per kind of process (workflow, interchange, pool, workers, monitoring
writer), ``(cpu(large) - cpu(small)) / (large - small)`` in microseconds: the per-task cost
with start-up and shutdown taken out (see "Per-hop cost" in bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["kind", "main", "run_once"]

_TICK = os.sysconf("SC_CLK_TCK")
_WRAP = [os.environ["HOP_WRAP"]] if os.environ.get("HOP_WRAP") else []
HERE = Path(__file__).resolve().parent


def kind(cmdline: str) -> str:
    """Which hop a process is, from its command line."""
    if "parsl_executor_htex.interchange" in cmdline:
        return "interchange"
    if "process_worker_pool" in cmdline:
        return "pool"
    if "parsl_executor_htex.worker" in cmdline:
        return "workers"
    if "parsl_monitoring.writer_main" in cmdline:
        return "writer"
    if "workloads.py" in cmdline:
        return "workflow"
    return "other"


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return out


def _cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError):
        return None


def run_once(workload: str, n: int) -> dict[str, float]:
    """CPU seconds per kind of process over one run of ``workload`` with ``n`` tasks."""
    proc = subprocess.Popen(
        [sys.executable, *_WRAP, str(HERE / "workloads.py"), workload, "--n", str(n)],
        stdout=subprocess.DEVNULL,
    )
    last: dict[int, tuple[str, float]] = {}
    while proc.poll() is None:
        todo = [proc.pid]
        while todo:
            pid = todo.pop()
            cpu = _cpu(pid)
            if cpu is not None:
                # until it runs its own program a child is a fork of its parent (or a shell),
                # so its command line is read again each time; an exited (zombie) process has
                # none, and keeps the kind it had
                known = last.get(pid, ("other", 0.0))[0]
                if known == "other" or pid != proc.pid:
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as f:
                            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                    except OSError:
                        cmd = ""
                    if cmd.strip():
                        known = kind(cmd)
                last[pid] = (known, cpu)
            todo += _children(pid)
        time.sleep(0.02)
    if proc.returncode:
        raise SystemExit(f"{workload} --n {n} failed with code {proc.returncode}")
    totals: dict[str, float] = {}
    for k, cpu in last.values():
        totals[k] = totals.get(k, 0.0) + cpu
    return totals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("workload")
    p.add_argument("--small", type=int, default=2000)
    p.add_argument("--large", type=int, default=12000)
    p.add_argument("--pairs", type=int, default=1)
    p.add_argument("--raw", action="store_true", help="also print each run's CPU seconds per kind")
    args = p.parse_args(argv)
    for _ in range(args.pairs):
        small = run_once(args.workload, args.small)
        large = run_once(args.workload, args.large)
        per = {
            k: 1e6 * (large.get(k, 0.0) - small.get(k, 0.0)) / (args.large - args.small)
            for k in ("workflow", "interchange", "pool", "workers", "writer")
        }
        per["total"] = sum(per.values())
        if args.raw:
            print(
                "  cpu seconds",
                {k: round(v, 2) for k, v in small.items()},
                {k: round(v, 2) for k, v in large.items()},
            )
        print(args.workload, " ".join(f"{k}={v:.0f}us" for k, v in per.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
