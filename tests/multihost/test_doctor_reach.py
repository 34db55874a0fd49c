"""`python -m parsl doctor --reach`, run on a pool's host, across real hosts: the interchange's
address reachable, a firewall in the pool's host dropping the port (an answer within the
timeout, naming the firewall, never a hang), and an address the pool's host has no route to."""

from __future__ import annotations

import socket
import sys
import time

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


def _doctor(topo, host, *targets: str, timeout: float = 1.0):
    args = [sys.executable, "-m", "parsl", "doctor", "--timeout", str(timeout)]
    for t in targets:
        args += ["--reach", t]
    return topo.run_in(host, args)


def test_doctor_on_a_pool_host_tells_reachable_dropped_and_unroutable_apart(netns_hosts):
    topo = netns_hosts
    b = topo.hosts[0]
    with socket.socket() as server:  # host A's "interchange": a listening port on its bridge address
        server.bind((topo.a.address, 0))
        server.listen(8)
        port = server.getsockname()[1]
        target = f"{topo.a.address}:{port}"

        done = _doctor(topo, b, target)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"{target}: reachable")

        # host B's own firewall drops what it sends to that port: the check answers within its
        # timeout and says what to look at
        table = "pmhdoctor"
        rule = (
            f"add table inet {table}; add chain inet {table} out {{ type filter hook output priority 0; }}; "
        )
        rule += f"add rule inet {table} out ip daddr {topo.a.address} tcp dport {port} drop"
        assert topo.run_in(b, ["nft", rule]).returncode == 0
        try:
            start = time.monotonic()
            done = _doctor(topo, b, target, timeout=1.0)
            took = time.monotonic() - start
        finally:
            topo.run_in(b, ["nft", f"delete table inet {table}"])
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"{target}: no answer in 1 s: a firewall" in done.stdout
        assert took < 15, f"the check took {took:.1f} s"  # 1 s of waiting plus Python's start

        # the rule gone, it is reachable again (the firewall was the only cause)
        assert _doctor(topo, b, target).returncode == 0

    # an address outside the test network: host B has no default route
    done = _doctor(topo, b, "192.0.2.1:54321")
    assert done.returncode == 1
    assert "no route to 192.0.2.1" in done.stdout, done.stdout
