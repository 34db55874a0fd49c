"""Run N no-op tasks on a HighThroughputExecutor and report memory every STEP tasks.

usage: python load_htex.py [N] [--step STEP] [--chunk CHUNK] [--json]

(upstream parsl launches its interchange by name: put its venv's bin/ first on PATH)

Works with parslcore and upstream parsl alike (2 workers, one LocalProvider block, encryption
at its default). Tasks are submitted in chunks and each chunk's futures are dropped once done,
as a long workflow would, so memory should stay flat: whatever the workflow process or the
interchange keeps per finished task shows up as growth. Reported per step: throughput, RSS
and peak RSS (VmHWM) of this process and of the interchange process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


@parsl.python_app
def noop():
    return None


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    cur = peak = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, peak


def interchange_pid() -> int | None:
    """The interchange: a child of this process whose command line names the interchange."""
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if ppid == me and b"interchange" in cmd:
            return int(pid)
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=100_000)
    ap.add_argument("--step", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=5_000)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    run_dir = os.environ.get("LOAD_RUN_DIR", "runinfo")
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
            )
        ],
        run_dir=run_dir,
        strategy="none",
    )
    rows = []
    with parsl.load(config):
        noop().result()
        ix = interchange_pid()
        t0 = last = time.perf_counter()
        done = 0
        next_report = opts.step
        while done < opts.n:
            futs = [noop() for _ in range(min(opts.chunk, opts.n - done))]
            for f in futs:
                f.result()
            done += len(futs)
            del futs
            if done >= next_report or done == opts.n:
                next_report += opts.step
                now = time.perf_counter()
                cur, peak = rss_mb()
                ix_cur, ix_peak = rss_mb(ix) if ix else (0.0, 0.0)
                rows.append(
                    {
                        "tasks": done,
                        "seconds": round(now - t0, 2),
                        "rate": round(opts.step / (now - last)),
                        "rss_mb": round(cur, 1),
                        "peak_rss_mb": round(peak, 1),
                        "ix_rss_mb": round(ix_cur, 1),
                        "ix_peak_rss_mb": round(ix_peak, 1),
                    }
                )
                last = now
                if not opts.json:
                    r = rows[-1]
                    print(
                        f"{r['tasks']:>9,} tasks {r['seconds']:>7.1f}s {r['rate']:>7,} tasks/s  workflow rss "
                        f"{r['rss_mb']:>6.1f} MB peak {r['peak_rss_mb']:>6.1f} MB  interchange rss "
                        f"{r['ix_rss_mb']:>6.1f} MB peak {r['ix_peak_rss_mb']:>6.1f} MB",
                        flush=True,
                    )
    if opts.json:
        print(json.dumps({"parsl": parsl.__version__, "python": sys.version.split()[0], "rows": rows}))


if __name__ == "__main__":
    main()
