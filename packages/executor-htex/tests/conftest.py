"""Fixtures for the HTEX tests: real interchange, worker pools and workers on this machine.

``htex_dfk`` loads one DataFlowKernel per module and per encryption setting (starting an
HTEX costs most of a second); ``htex_processes`` lists this package's live processes so
tests can check that shutdown leaves none behind.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

import parsl
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

# Every process this test run starts inherits the marker, orphans included; HTEX processes of
# other runs on the same machine (a benchmark, a second test run) do not count.
_MARK = "PARSL_HTEX_TEST_RUN"
os.environ.setdefault(_MARK, uuid.uuid4().hex)
_MARKER = f"{_MARK}={os.environ[_MARK]}".encode()


# pools started through the process_worker_pool.py script or the parsl.executors.high_throughput
# module paths, as well as with python -m parsl_executor_htex.*
_NAMES = (b"parsl_executor_htex", b"process_worker_pool", b"parsl.executors.high_throughput")


def htex_processes() -> set[int]:
    """Pids of live (non-zombie) interchange, worker pool and worker processes of this test run."""
    found = set()
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if not any(name in cmd for name in _NAMES) or state in (b"Z", b"X"):
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                mine = _MARKER in f.read().split(b"\0")
        except OSError:
            continue
        if mine:
            found.add(int(pid))
    return found


def wait_until_gone(pids: set[int], timeout: float = 10) -> set[int]:
    deadline = time.monotonic() + timeout
    left = pids & htex_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = pids & htex_processes()
    return left


def make_config(run_dir: str, encrypted: bool = True, **kw) -> Config:
    opts = dict(
        label="htex",
        max_workers_per_node=2,
        encrypted=encrypted,
        heartbeat_period=1,
        heartbeat_threshold=5,
        provider=LocalProvider(init_blocks=1, max_blocks=1),
    )
    opts.update(kw)
    return Config(executors=[HighThroughputExecutor(**opts)], run_dir=run_dir, strategy="none")


@pytest.fixture(scope="module", params=[True, False], ids=["encrypted", "plaintext"])
def htex_dfk(request, tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("htex") / "runinfo")
    before = htex_processes()
    dfk = parsl.load(make_config(run_dir, encrypted=request.param))
    yield dfk
    dfk.cleanup()
    assert not wait_until_gone(htex_processes() - before), "HTEX processes outlived cleanup"


@pytest.fixture(scope="session")
def htex_tools():
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    import types

    return types.SimpleNamespace(
        processes=htex_processes, wait_until_gone=wait_until_gone, make_config=make_config
    )
