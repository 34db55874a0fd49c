"""Nothing is orphaned: when the workflow process or a worker pool is SIGKILLed, every HTEX
process it leaves behind exits on its own within the issue's bounds.

The workflow runs as a real script in a subprocess, with real interchange, pools and workers;
the interchange must be gone 2 s after the workflow's SIGKILL, and every pool and worker within
``heartbeat_threshold``. Processes are followed by pid (see ``conftest.htex_processes``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

HB_THRESHOLD = 3.0
#: the interchange's bound after the workflow is gone (issue 15)
INTERCHANGE_BOUND = 2.0

SCRIPT = """
import os
import sys
import time

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor


@python_app
def nap(started):
    import os
    import time

    with open(started, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    time.sleep(600)


htex = HighThroughputExecutor(
    max_workers_per_node=2,
    heartbeat_period=1,
    heartbeat_threshold={threshold},
    encrypted=True,
    provider=LocalProvider(init_blocks=1, max_blocks=1),
    **{extra},
)
parsl.load(Config(executors=[htex], run_dir={run_dir!r}, strategy="none"))
futures = [nap({started!r}) for _ in range(4)]
child = 0
if os.environ.get("ORPHAN_TEST_FORK"):
    # a forked child (as multiprocessing's "fork" makes) holds a copy of every descriptor,
    # the write end of the interchange's stdin included
    child = os.fork()
    if child == 0:
        time.sleep(120)
        os._exit(0)
print("submitted", child, flush=True)
sys.stdin.read()  # until the test kills us
"""


def _kind(pid: int) -> str:
    cmd = " ".join(psutil.Process(pid).cmdline())
    if "interchange" in cmd:
        return "interchange"
    if "process_worker_pool" in cmd:
        return "pool"
    return "worker"


def _running_workflow(
    request, tmp_path: Path, htex_tools, extra: str, fork: bool = False
) -> tuple[subprocess.Popen, dict[int, str]]:
    """Start the workflow script; return it once both workers run a task, with the HTEX
    processes it started (pid -> interchange, pool or worker). With ``fork``, the workflow
    also forks a child that sleeps (killed when the test ends)."""
    started = tmp_path / "started"
    script = tmp_path / "workflow.py"
    # a short run directory: the local pools' socket path must fit in a sockaddr_un
    run_dir = tempfile.mkdtemp(prefix="htex-orphans-")
    request.addfinalizer(lambda: shutil.rmtree(run_dir, ignore_errors=True))
    script.write_text(
        textwrap.dedent(SCRIPT).format(
            threshold=HB_THRESHOLD, extra=extra, run_dir=run_dir, started=str(started)
        )
    )
    before = htex_tools.processes()
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "ORPHAN_TEST_FORK": "1" if fork else ""},
    )
    word, child = proc.stdout.readline().split()
    assert word == "submitted", proc.stderr.read()
    if int(child):
        request.addfinalizer(lambda: _left({int(child)}) and os.kill(int(child), signal.SIGKILL))
    deadline = time.monotonic() + 60
    while not (started.exists() and len(started.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the tasks never started"
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    found = {pid: _kind(pid) for pid in htex_tools.processes() - before}
    assert sorted(found.values()) == ["interchange", "pool", "worker", "worker"], found
    return proc, found


def _left(pids: set[int]) -> set[int]:
    """Those of ``pids`` still alive (zombies count as gone)."""
    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _gone_by(pids: set[int], deadline: float) -> set[int]:
    """Wait until ``pids`` are gone or ``deadline`` (monotonic) passed; return those left."""
    left = _left(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = _left(left)
    return left


def _pool_link(pool: int) -> str:
    """How the pool reaches the interchange: "unix" or "tcp" (its open connections say)."""
    p = psutil.Process(pool)
    conns = p.net_connections(kind="tcp") if hasattr(p, "net_connections") else p.connections(kind="tcp")
    return "tcp" if any(c.raddr for c in conns) else "unix"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "link"),
    [("{}", "unix"), ("{'address': '127.0.0.1'}", "tcp")],
    ids=["local-pool", "tcp-pool"],
)
@pytest.mark.parametrize("fork", [False, True], ids=["", "forked-child"])
def test_workflow_sigkilled_leaves_no_htex_process(request, tmp_path, htex_tools, extra, link, fork):
    """With ``fork``, a child of the workflow outlives it holding the write end of the
    interchange's stdin, so the interchange sees no end of file: it sees its parent go."""
    proc, found = _running_workflow(request, tmp_path, htex_tools, extra, fork)
    pool = next(pid for pid, kind in found.items() if kind == "pool")
    assert _pool_link(pool) == link
    try:
        killed = time.monotonic()
        proc.kill()
        proc.wait()
        ix = {pid for pid, kind in found.items() if kind == "interchange"}
        assert not _gone_by(ix, killed + INTERCHANGE_BOUND), "the interchange outlived the workflow"
        left = _gone_by(set(found), killed + HB_THRESHOLD)
        assert not left, f"orphans after {HB_THRESHOLD} s: {[found[p] for p in left]}"
    finally:
        for pid in _left(set(found)):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["{}", "{'address': '127.0.0.1'}"], ids=["local-pool", "tcp-pool"])
def test_pool_sigkilled_takes_its_busy_workers_along(request, tmp_path, htex_tools, extra):
    proc, found = _running_workflow(request, tmp_path, htex_tools, extra)
    try:
        pool = next(pid for pid, kind in found.items() if kind == "pool")
        workers = {pid for pid, kind in found.items() if kind == "worker"}
        killed = time.monotonic()
        os.kill(pool, signal.SIGKILL)
        left = _gone_by(workers, killed + HB_THRESHOLD)
        assert not left, "workers outlived their pool, busy with a 600 s task"
    finally:
        proc.kill()
        proc.wait()
        for pid in _left(set(found)):
            os.kill(pid, signal.SIGKILL)


#: not a bound of the issue: how long the no-goodbye case below may take on a loaded machine
PATIENCE = 30.0


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["{}", "{'address': '127.0.0.1'}"], ids=["local-pool", "tcp-pool"])
def test_workflow_and_interchange_sigkilled_together_leave_no_htex_process(
    request, tmp_path, htex_tools, extra
):
    """Nobody tells the pool to stop (as when the OOM killer takes both): it waits
    heartbeat_threshold for a new interchange, then exits, and its busy workers with it."""
    proc, found = _running_workflow(request, tmp_path, htex_tools, extra)
    try:
        ix = next(pid for pid, kind in found.items() if kind == "interchange")
        os.kill(ix, signal.SIGKILL)
        proc.kill()
        proc.wait()
        left = _gone_by(set(found), time.monotonic() + PATIENCE)
        assert not left, f"orphans after {PATIENCE} s: {[found[p] for p in left]}"
    finally:
        for pid in _left(set(found)):
            os.kill(pid, signal.SIGKILL)
