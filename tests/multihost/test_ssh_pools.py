"""Pools started over SSH on other hosts, as on a set of machines one can only ssh into: an
sshd runs in each of hosts B, C and D (the test sshd's keys, on the host's own address), and
an AdHocProvider with one SSHChannel per host starts one block on each. The pools run inside
those hosts (their sshd's children), reach the interchange on host A over the bridge, run
tasks, and are gone from every host when the workflow ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from htex_hosts import SSHD_DIR, assert_hosts_empty

import parsl
from parsl import python_app
from parsl.config import Config
from parsl_executor_htex import HighThroughputExecutor

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


@python_app
def where(host_a: str, i: int):
    import os
    import socket
    import time

    time.sleep(0.05)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        return i, s.getsockname()[0], os.getppid(), os.environ.get("PARSL_WORKER_BLOCK_ID")


def test_pools_started_over_ssh_run_on_every_host(netns_hosts, host_sshds, tmp_path):
    from parsl.channels import SSHChannel
    from parsl.providers import AdHocProvider

    topo = netns_hosts
    script_dir = f"/tmp/parsl-multihost-ssh-{os.getpid()}"
    channels = [
        SSHChannel(
            hostname=h.address,
            port=22,
            username="root",
            key_filename=str(SSHD_DIR / "id_ed25519"),
            host_keys_filename=str(host_sshds.known_hosts),
            script_dir=f"{script_dir}/{h.name}",
        )
        for h in topo.hosts
    ]
    ex = HighThroughputExecutor(
        label="multihost_ssh",
        address=topo.a.address,
        max_workers_per_node=2,
        heartbeat_period=1,
        heartbeat_threshold=10,
        worker_debug=False,
        provider=AdHocProvider(
            channels=channels, worker_init=f"export PATH={os.path.dirname(sys.executable)}:$PATH"
        ),
    )
    config = Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), strategy="none")
    try:
        with parsl.load(config):
            deadline = time.monotonic() + 90
            while len(ex.connected_managers()) < 3:
                assert time.monotonic() < deadline, (
                    f"{len(ex.connected_managers())} of 3 pools connected over ssh"
                )
                time.sleep(0.2)
            # every pool is a process of its host: inside that host's namespace
            for h in topo.hosts:
                pids = subprocess.run(
                    ["ip", "netns", "pids", h.netns], capture_output=True, text=True
                ).stdout.split()
                cmds = [Path(f"/proc/{p}/cmdline").read_bytes() for p in pids if Path(f"/proc/{p}").exists()]
                assert any(b"process_worker_pool" in c for c in cmds), f"no pool runs in host {h.name}"
            results = [f.result(timeout=120) for f in [where(topo.a.address, i) for i in range(60)]]
        assert sorted(r[0] for r in results) == list(range(60))
        assert {r[1] for r in results} == {h.address for h in topo.hosts}  # tasks ran on every host
        # the pools are gone (sshd, and its sessions, are all that is left in each host)
        assert_hosts_empty(topo, timeout=20, ignore=("sshd",))
    finally:
        subprocess.run(["rm", "-rf", script_dir], check=False)
