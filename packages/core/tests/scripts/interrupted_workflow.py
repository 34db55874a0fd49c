"""A workflow interrupted by Ctrl-C or SIGTERM, for test_interrupts.py.

usage: interrupted_workflow.py RUN_DIR CHECKPOINT_MODE with|atexit

Runs five cached tasks, then a Python task and a bash task that would each take a minute,
prints RUNNING and blocks on them. The bash command records its bash's PID and the PID of
the ``sleep`` it started, so the test can check that nothing is left running.
"""

from __future__ import annotations

import os
import sys
import time

import parsl
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

run_dir, mode, style = sys.argv[1], sys.argv[2], sys.argv[3]


@parsl.python_app(cache=True)
def square(i):
    return i * i


@parsl.python_app
def slow_python():
    time.sleep(60)


@parsl.bash_app
def slow_bash(pidfile):
    return f"sleep 60 & echo $$ $! > {pidfile}.tmp && mv {pidfile}.tmp {pidfile}; wait"


def main() -> None:
    pidfile = os.path.join(run_dir, "pids")
    assert [square(i).result() for i in range(5)] == [0, 1, 4, 9, 16]
    futs = [slow_python(), slow_bash(pidfile)]
    while not os.path.exists(pidfile):
        time.sleep(0.01)
    print("RUNNING", flush=True)
    for f in futs:
        f.result()


config = Config(
    executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir, strategy="none", checkpoint_mode=mode
)
if style == "with":
    with parsl.load(config):
        main()
else:
    parsl.load(config)
    main()
