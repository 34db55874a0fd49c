"""The workflow's host vanishes: its link goes down and every process on it is SIGKILLed at
once, so no connection is closed and nothing more is said. The pool on another host, busy with
a long task, must notice the silence and exit on its own, workers and all, within a bound
set by ``heartbeat_threshold``: no orphans left running on compute nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

HERE = Path(__file__).resolve().parent
THRESHOLD = 4  # heartbeat_threshold of the executor on the vanishing host (heartbeat_period 1)

_WORKFLOW = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from netns import Host, NetnsLauncher
import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

spec = json.loads(sys.argv[1])
pool_host = Host(**spec["pool_host"])
config = Config(
    executors=[HighThroughputExecutor(
        label="vanishing", address=spec["address"], max_workers_per_node=1,
        heartbeat_period=1, heartbeat_threshold=spec["threshold"],
        provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1,
                               launcher=NetnsLauncher(pool_host)),
    )],
    run_dir=spec["run_dir"], strategy="none",
)
parsl.load(config)

@python_app
def where():
    import socket
    return socket.gethostname()

@python_app
def long():
    import time
    time.sleep(600)

where().result(timeout=90)
long()  # the pool's only worker is busy from here on
time.sleep(1)
print("ready", flush=True)
time.sleep(3600)
"""


def _pids_in(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _parsl_pids_in(netns: str) -> list[int]:
    found = []
    for pid in _pids_in(netns):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"parsl" in cmd or b"process_worker_pool" in cmd:
            found.append(pid)
    return found


def test_pools_exit_on_their_own_when_the_workflow_host_vanishes(netns_hosts, tmp_path):
    topo = netns_hosts
    b, c = topo.hosts[0], topo.hosts[1]  # the pool's host, and the workflow's
    script = tmp_path / "workflow.py"
    script.write_text(_WORKFLOW)
    spec = {
        "address": c.address,
        "threshold": THRESHOLD,
        "run_dir": str(tmp_path / "runinfo"),
        "pool_host": {"name": b.name, "address": b.address, "netns": b.netns, "link": b.link},
    }
    workflow = topo.popen_in(
        c, [sys.executable, str(script), json.dumps(spec), str(HERE)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = workflow.stdout.readline()
        assert line.strip() == "ready", f"the workflow on host C did not start its pool on B: {line!r}"
        assert _parsl_pids_in(b.netns), "no pool runs on host B"
        # host C vanishes: unplugged, then every process on it killed at once
        topo.link_down(c)
        for pid in _pids_in(c.netns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        workflow.wait(10)
        gone_at = time.monotonic()
        bound = THRESHOLD + 10  # the threshold, then the pool's own shutdown of its workers
        while True:
            left = _parsl_pids_in(b.netns)
            if not left:
                print(f"pool gone {time.monotonic() - gone_at:.1f} s after host C vanished")
                break
            assert time.monotonic() - gone_at < bound, (
                f"pool processes {left} still on host B after {bound} s"
            )
            time.sleep(0.2)
    finally:
        if workflow.poll() is None:
            workflow.kill()
            workflow.wait()
        workflow.stdout.close()
        topo.link_up(c)
        for pid in _parsl_pids_in(b.netns) + _pids_in(c.netns):  # never leave them behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
