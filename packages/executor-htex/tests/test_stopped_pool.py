"""A worker pool stopped (SIGSTOP) for longer than ``heartbeat_threshold`` is declared lost: its
tasks fail with ManagerLost and are retried on the other pool; when it is continued, nothing it
sends reaches the workflow, and the interchange tells it to exit, which it does.

Two tests: real pools (two blocks, so the retry has somewhere to go), one stopped with SIGSTOP
and continued with SIGCONT; and a pool scripted at the protocol level over TCP, which sends its
late result on purpose, so the interchange's dropping of it is seen (a real pool usually reads
the interchange's STOP before it sends anything, and drops its results itself).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import zmq

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor, ManagerLost
from parsl_executor_htex import messages as m
from parsl_executor_htex.interchange import STOP_LOST

pytestmark = pytest.mark.slow

HB_PERIOD = 1
HB_THRESHOLD = 3
#: generous, not a bound of the issue: how long anything here may take under a loaded machine
PATIENCE = 60


@python_app
def square(x, delay, log):
    import os
    import time

    with open(log, "a") as f:  # which pool (the worker's parent) ran which try
        f.write(f"{x} {os.getppid()}\n")
    time.sleep(delay)
    return x * x, os.getppid()


def _tries(log: Path) -> list[tuple[int, int]]:
    if not log.exists():
        return []
    return [(int(x), int(pool)) for x, pool in (line.split() for line in log.read_text().splitlines())]


def _wait(what: str, ok, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"waited {timeout} s: {what}"
        time.sleep(0.05)


@pytest.fixture
def short_run_dir():
    """A short run directory: the local pools' socket path must fit in a sockaddr_un."""
    path = tempfile.mkdtemp(prefix="htex-stop-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("address", [None, "127.0.0.1"], ids=["local-pools", "tcp-pools"])
def test_stopped_pool_is_lost_retried_elsewhere_and_told_to_exit(
    tmp_path, short_run_dir, htex_tools, address
):
    before = htex_tools.processes()
    htex = HighThroughputExecutor(
        label="htex",
        max_workers_per_node=1,
        heartbeat_period=HB_PERIOD,
        heartbeat_threshold=HB_THRESHOLD,
        worker_debug=True,  # the interchange logs its DEBUG lines
        address=address,
        provider=LocalProvider(init_blocks=2, max_blocks=2),
    )
    log = tmp_path / "tries"
    dfk = parsl.load(Config(executors=[htex], run_dir=short_run_dir, strategy="none", retries=1))
    try:
        _wait("two pools", lambda: htex.connected_workers == 2)
        # one long task per pool; the stopped pool's worker finishes its task while the pool is
        # stopped, so the pool holds a result it will never be allowed to deliver
        futures = {x: square(x, 2, str(log)) for x in (1, 2)}
        _wait("both tasks started", lambda: len({pool for _, pool in _tries(log)}) == 2)
        victim_x, victim = _tries(log)[0]
        os.kill(victim, signal.SIGSTOP)
        try:
            futures.update({x: square(x, 0.1, str(log)) for x in range(3, 9)})
            # the victim's task comes back as ManagerLost, is retried, and runs on the other pool
            _wait("the stopped pool's task retried", lambda: futures[victim_x].done())
        finally:
            os.kill(victim, signal.SIGCONT)
        values = {x: f.result(timeout=PATIENCE) for x, f in futures.items()}
        assert {x: v[0] for x, v in values.items()} == {x: x * x for x in futures}
        # what the workflow got for the stopped pool's task came from the other pool
        assert values[victim_x][1] != victim
        _wait("the stopped pool exits once continued", lambda: _gone(victim))

        tries = _tries(log)
        # the victim ran one try, the other pool all the rest (the victim's second try included)
        assert [t for t in tries if t[1] == victim] == [(victim_x, victim)]
        assert sorted(x for x, pool in tries if pool != victim) == sorted(futures)
        record = futures[victim_x].task_record
        assert record["fail_count"] == 1
        assert "ManagerLost" in record["fail_history"][0]
        for x, f in futures.items():  # the others succeeded at their first try
            if x != victim_x:
                assert f.task_record["fail_count"] == 0
        logdir = Path(htex.logdir)
        manager_logs = "".join(p.read_text() for p in logdir.glob("block-*/*/manager.log"))
        assert "declared this pool lost" in manager_logs
        assert htex.connected_workers == 1
    finally:
        dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)


def test_late_results_of_a_lost_pool_are_dropped_scripted_pool(short_run_dir, htex_tools):
    """A pool scripted over TCP: it registers, takes a task, goes silent past the threshold and
    then sends the result; the task has already failed with ManagerLost, the late result is
    dropped (DEBUG line) and the answer is STOP + STOP_LOST."""
    before = htex_tools.processes()
    htex = HighThroughputExecutor(
        label="htex",
        heartbeat_period=HB_PERIOD,
        heartbeat_threshold=HB_THRESHOLD,
        worker_debug=True,
        address="127.0.0.1",
        encrypted=False,
        provider=LocalProvider(init_blocks=0, max_blocks=0),
    )
    dfk = parsl.load(Config(executors=[htex], run_dir=short_run_dir, strategy="none", retries=0))
    ctx = zmq.Context()
    pool = ctx.socket(zmq.DEALER)
    pool.setsockopt(zmq.IDENTITY, b"scripted-pool")
    pool.setsockopt(zmq.LINGER, 0)
    try:
        pool.connect(f"tcp://127.0.0.1:{htex.worker_port}")
        info = {"version_info": m.version_info(), "block_id": "0", "worker_count": 1, "hostname": "here"}
        m.send(pool, m.encode(m.REGISTER, info))

        def next_message(tags: tuple[bytes, ...]):
            while True:
                assert pool.poll(PATIENCE * 1000), f"nothing from the interchange, waiting for {tags}"
                msg, extra = m.recv(pool)
                if msg[:1] in tags:
                    return msg, extra

        next_message((m.ACCEPT,))
        future = square(7, 0, "/dev/null")
        msg, extra = next_message((m.TASKS,))
        (tid, _fid), *_ = m.decode(msg, extra)[0]
        with pytest.raises(ManagerLost):  # we said nothing for heartbeat_threshold
            future.result(timeout=PATIENCE)
        # the late result: 49, pickled as a worker would have packed it
        from parsl_executor_htex.serialize import pack_result

        m.send(pool, m.encode_results([tid], [pack_result(49)]))
        msg, _ = next_message((m.STOP,))
        assert bytes(msg) == m.STOP + STOP_LOST
        ix_log = Path(htex.logdir, "interchange.log")
        _wait("the DEBUG line", lambda: "Dropping 1 late results" in ix_log.read_text())
        assert htex.connected_workers == 0
        assert htex.outstanding == 0
    finally:
        pool.close()
        ctx.term()
        dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)
