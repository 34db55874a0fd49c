"""Run N no-op tasks on threads and report throughput and memory every 100k tasks.

usage: python load_million.py [N] [--step STEP] [--json]

Works with parslcore and upstream parsl alike. Tasks are submitted in chunks of 10,000 and
each chunk's futures are dropped once done, as a long workflow would, so memory should stay
flat: anything the kernel keeps per finished task shows up as growth here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import parsl
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

CHUNK = 10_000


@parsl.python_app
def noop():
    return None


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) in MB."""
    cur = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--step", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    run_dir = os.environ.get("LOAD_RUN_DIR", "runinfo")
    config = Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir, strategy="none")
    rows = []
    with parsl.load(config):
        t0 = last = time.perf_counter()
        done = 0
        while done < opts.n:
            futs = [noop() for _ in range(min(CHUNK, opts.n - done))]
            for f in futs:
                f.result()
            done += len(futs)
            del futs
            if done % opts.step == 0 or done == opts.n:
                now = time.perf_counter()
                cur, peak = rss_mb()
                rows.append(
                    {
                        "tasks": done,
                        "seconds": round(now - t0, 2),
                        "rate": round(opts.step / (now - last)),
                        "rss_mb": round(cur, 1),
                        "peak_rss_mb": round(peak, 1),
                    }
                )
                last = now
                if not opts.json:
                    r = rows[-1]
                    print(
                        f"{r['tasks']:>9,} tasks {r['seconds']:>8.1f}s {r['rate']:>8,} tasks/s "
                        f"rss {r['rss_mb']:>7.1f} MB peak {r['peak_rss_mb']:>7.1f} MB",
                        flush=True,
                    )
    if opts.json:
        print(json.dumps({"parsl": parsl.__version__, "python": sys.version.split()[0], "rows": rows}))


if __name__ == "__main__":
    main()
