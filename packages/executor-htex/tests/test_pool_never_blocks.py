"""A worker pool's loop never blocks on a busy worker: FORGET messages for a worker running a
long task wait in the pool until the task is done, instead of filling the worker's pipe (which
it does not read while it runs a task) and blocking the pool in a write, where it would stop
heartbeating, be declared lost, and never read the interchange's STOP: an orphan.

A real pool and worker, driven by an interchange scripted at the protocol level over TCP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import zmq

from parsl_executor_htex import messages as m
from parsl_executor_htex.serialize import dumps, dumps_args

pytestmark = pytest.mark.slow

#: the worker's pipe takes 1 MiB at most; this is ten times as much FORGET bytes
FORGETS = 200
FORGET_SIZE = 10_000  # function ids per FORGET message (about 50 KB pickled)
PATIENCE = 60  # not a bound of the issue: how long a loaded machine may take
LONG = FORGETS + 1  # the long task's id and function id


def _recv(router: zmq.Socket, tags: tuple[bytes, ...], timeout: float = PATIENCE):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0 and router.poll(left * 1000), f"nothing from the pool, waiting for {tags}"
        ident = router.recv()
        msg, extra = m.recv(router)
        if msg[:1] in tags:
            return ident, msg, extra


def test_forgets_for_a_busy_worker_do_not_block_the_pool(tmp_path):
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    pool = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parsl_executor_htex.process_worker_pool",
            "-a",
            "127.0.0.1",
            f"--port={port}",
            "--max_workers_per_node=1",
            "--hb_period=0.5",
            "--hb_threshold=600",
            f"--logdir={tmp_path}",
        ],
        stderr=subprocess.PIPE,
    )
    try:
        ident, _, _ = _recv(router, (m.REGISTER,))
        m.send(router, [m.ACCEPT], ident)
        # the worker runs one task of each of FORGETS functions, so it holds them all
        short = dumps(int)
        meta = [(tid, tid) for tid in range(1, FORGETS + 1)]
        m.send(
            router,
            m.encode(
                m.TASKS, (meta, dict.fromkeys(range(1, FORGETS + 1), short), [dumps_args((), {})] * FORGETS)
            ),
            ident,
        )
        done = 0
        while done < FORGETS:
            _, msg, _ = _recv(router, (m.RESULTS,))
            done += len(m.result_ids(msg)[0])
        # then a long task, and while it runs, every one of those functions is forgotten
        m.send(
            router,
            m.encode(m.TASKS, ([(LONG, LONG)], {LONG: dumps(time.sleep)}, [dumps_args((PATIENCE,), {})])),
            ident,
        )
        time.sleep(0.5)  # the worker has it
        bogus = list(range(10**6, 10**6 + FORGET_SIZE))
        for fid in range(1, FORGETS + 1):
            m.send(router, m.encode(m.FORGET, [fid, *bogus]), ident)
        # the pool still runs its loop: it heartbeats after reading all of them (and the long
        # task still runs: no result came)
        flooded = time.monotonic()
        while True:
            _, msg, _ = _recv(router, (m.HEARTBEAT, m.RESULTS), timeout=15)
            assert msg[:1] == m.HEARTBEAT, "the long task ended early"
            if time.monotonic() - flooded > 2:
                break
        assert pool.poll() is None, pool.stderr.read().decode()
        m.send(router, [m.STOP], ident)
        pool.wait(timeout=PATIENCE)
    finally:
        if pool.poll() is None:
            for child in psutil.Process(pool.pid).children(recursive=True):
                child.kill()
            os.kill(pool.pid, signal.SIGKILL)
            pool.wait()
        router.close()
        ctx.term()
