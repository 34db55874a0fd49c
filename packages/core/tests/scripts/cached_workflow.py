"""A workflow of N cached tasks, for the kill-and-resume tests (test_checkpoint_crash.py).

usage: cached_workflow.py RUN_DIR N STYLE MODE LABEL

Restores every checkpoint under RUN_DIR, runs ``square(i)`` for i < N and prints
``i value`` as each result arrives. Each execution of a task body appends ``LABEL i`` to
RUN_DIR/computed.log, so a test can tell computed results from memoized ones. STYLE is
``config`` (Config(checkpoint_mode=...)) or ``memoizer`` (Config(memoizer=BasicMemoizer(...))).
"""

from __future__ import annotations

import os
import random
import sys
import time
from concurrent.futures import as_completed

import parsl
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints

run_dir, n, style, mode, label = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
LOG = os.path.join(run_dir, "computed.log")


def value_of(i: int) -> tuple[int, str]:
    # some results are large, so a kill can land in the middle of writing their record
    return i * i, "x" * (300_000 if i % 7 == 0 else 10)


@parsl.python_app(cache=True, ignore_for_cache=["log", "label"])
def square(i: int, log: str = LOG, label: str = label) -> tuple[int, str]:
    time.sleep(random.uniform(0, 0.01))
    with open(log, "a") as f:
        f.write(f"{label} {i}\n")
    return value_of(i)


period = "00:00:01" if mode == "periodic" else None
checkpoints = get_all_checkpoints(run_dir)
executors = [ThreadPoolExecutor(max_threads=4)]
if style == "config":
    config = Config(
        executors=executors,
        run_dir=run_dir,
        checkpoint_mode=mode,
        checkpoint_period=period,
        checkpoint_files=checkpoints,
        strategy="none",
    )
else:
    config = Config(
        executors=executors,
        run_dir=run_dir,
        strategy="none",
        memoizer=BasicMemoizer(checkpoint_mode=mode, checkpoint_period=period, checkpoint_files=checkpoints),
    )

with parsl.load(config) as dfk:
    print("START", flush=True)
    futures = {square(i): i for i in range(n)}
    for fut in as_completed(futures):
        i = futures[fut]
        v, pad = fut.result()
        ok = (v, pad) == value_of(i)
        print(f"{i} {v} {'ok' if ok else 'WRONG'}", flush=True)
    if mode == "manual":
        dfk.checkpoint()
print("DONE", flush=True)
