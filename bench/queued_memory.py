"""Memory per queued task: RSS growth while N no-op tasks wait, in the workflow and the interchange.

usage: python bench/queued_memory.py threads|htex [--n 100000] [--json]

``threads`` (default ``Config()``): N no-op tasks that each depend on one unresolved future,
so all N wait in the DataFlowKernel (task record, AppFuture, dependency callback). The
workflow's RSS is read before and after submitting them; then the future is resolved and
every result checked.

``htex`` (2 workers, one local block, encryption at its default): both workers are first
given a task that blocks until a file appears, then N no-op tasks are submitted; they wait
in the workflow process (AppFuture, task record, executor future) and in the interchange
(the serialized task), a few in the pool. RSS of the workflow and of the interchange are
read before and once the interchange holds them all (its RSS stops growing), then the
blockers are released and every result checked.

Reported: MB of RSS growth per 100k queued tasks for each process. Works with upstream
parsl too (its interchange is found by command line the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import Future


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child_pid(marker: bytes) -> int | None:
    """A child of this process whose command line contains ``marker``."""
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
        if ppid == me and marker in cmd:
            return int(pid)
    return None


def settle(pid: int | str, seconds: float = 30.0) -> float:
    """RSS of ``pid`` once it has not grown for 1 s (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    last = rss_mb(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = rss_mb(pid)
        if now <= last + 0.05:
            return now
        last = now
    return last


def run_threads(n: int) -> dict[str, float]:
    import parsl
    from parsl.config import Config

    @parsl.python_app
    def noop(x=None):
        return None

    with parsl.load(Config()):
        noop().result()
        gate: Future = Future()
        before = rss_mb()
        futs = [noop(gate) for _ in range(n)]
        after = settle("self", 5.0)
        gate.set_result(None)
        ok = all(f.result() is None for f in futs)
    if not ok:
        raise SystemExit("a no-op returned a non-None result")
    return {"workflow_mb_per_100k": (after - before) * 100_000 / n}


def run_htex(n: int) -> dict[str, float]:
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    @parsl.python_app
    def noop():
        return None

    @parsl.python_app
    def block(path):
        import os
        import time

        while not os.path.exists(path):
            time.sleep(0.01)
        return "released"

    run_dir = tempfile.mkdtemp(prefix="queued-memory-")
    gate = os.path.join(run_dir, "go")
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
            )
        ],
        run_dir=run_dir,
        strategy="none",
    )
    with parsl.load(config):
        noop().result()
        ix = child_pid(b"interchange")
        if ix is None:
            raise SystemExit("no interchange process found")
        blockers = [block(gate) for _ in range(2)]
        time.sleep(1.0)  # both workers busy
        before, ix_before = rss_mb(), rss_mb(ix)
        futs = [noop() for _ in range(n)]
        after = settle("self", 10.0)
        ix_after = settle(ix, 30.0)
        open(gate, "w").close()
        ok = all(b.result() == "released" for b in blockers) and all(f.result() is None for f in futs)
    if not ok:
        raise SystemExit("a task returned the wrong result")
    per = 100_000 / n
    return {
        "workflow_mb_per_100k": (after - before) * per,
        "interchange_mb_per_100k": (ix_after - ix_before) * per,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("threads", "htex"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    result = (run_threads if opts.mode == "threads" else run_htex)(opts.n)
    import parsl

    row = {
        "mode": opts.mode,
        "n": opts.n,
        "parsl_version": parsl.__version__,
        "python": sys.version.split()[0],
    }
    row.update({k: round(v, 1) for k, v in result.items()})
    print(json.dumps(row) if opts.json else " ".join(f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
