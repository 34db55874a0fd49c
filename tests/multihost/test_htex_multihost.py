"""HTEX across hosts: the interchange on host A, worker pools on hosts B, C, D.

The hosts are network namespaces on this machine (netns.py): each has its own address on one
bridge, its own loopback and no route out, so a pool there reaches the interchange only over
the bridge, as a pool on a compute node reaches a login node. Everything here is real: the
workflow, the interchange and the pools are processes, and the pools are launched by a
LocalProvider whose launcher runs them under ``ip netns exec``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time

import pytest
from htex_hosts import assert_hosts_empty, wait_for_managers
from netns import NetnsLauncher

import parsl
from parsl import python_app
from parsl.addresses import address_by_interface
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

_SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    s.accept()[0].close()
"""

_CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except OSError as e:
    sys.exit(f"{type(e).__name__}: {e}")
"""


def _serve(topology, host, address):
    """A TCP server in ``host`` on ``address``; returns (process, port)."""
    proc = topology.popen_in(
        host, [sys.executable, "-c", _SERVER, address], stdout=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()
    assert line.strip().isdigit(), f"the server in host {host.name} did not start: {line!r}"
    return proc, int(line)


def _connects(topology, host, address, port) -> bool:
    return topology.run_in(host, [sys.executable, "-c", _CONNECT, address, str(port)]).returncode == 0


def _stop(proc):
    proc.kill()
    proc.wait()
    proc.stdout.close()


# --------------------------------------------------------------------------- the hosts themselves
def test_hosts_reach_each_other_and_host_a(netns_hosts):
    topo = netns_hosts
    b, c, d = topo.hosts
    with socket.socket() as server:
        server.bind((topo.a.address, 0))
        server.listen(8)
        port = server.getsockname()[1]
        for h in topo.hosts:
            assert _connects(topo, h, topo.a.address, port), f"host {h.name} cannot reach host A"
    proc, port = _serve(topo, c, "0.0.0.0")
    try:
        assert _connects(topo, b, c.address, port), "host B cannot reach host C"
        assert _connects(topo, d, c.address, port), "host D cannot reach host C"
        assert _connects(topo, topo.a, c.address, port), "host A cannot reach host C"
    finally:
        _stop(proc)
    addresses = {h.address for h in [topo.a, *topo.hosts]}
    assert len(addresses) == 4 and all(ipaddress.ip_address(a) in topo.network for a in addresses)
    for h in topo.hosts:
        shown = topo.run_in(h, ["ip", "-4", "-o", "addr", "show", "eth0"]).stdout
        assert f"inet {h.address}/24" in shown


def test_each_host_has_its_own_loopback(netns_hosts):
    topo = netns_hosts
    b, c, _ = topo.hosts
    proc, port = _serve(topo, b, "127.0.0.1")
    try:
        assert _connects(topo, b, "127.0.0.1", port), "host B cannot reach its own loopback"
        assert not _connects(topo, c, "127.0.0.1", port), "host C's 127.0.0.1 reached host B's server"
        assert not _connects(topo, topo.a, "127.0.0.1", port), "host A's 127.0.0.1 reached host B's server"
        assert not _connects(topo, c, b.address, port), "a server on B's loopback answered on its address"
    finally:
        _stop(proc)


def test_nothing_routes_out(netns_hosts):
    topo = netns_hosts
    for h in topo.hosts:
        assert topo.run_in(h, ["ip", "route", "show", "default"]).stdout.strip() == ""
        out = topo.run_in(h, ["ip", "route", "get", "1.1.1.1"])
        assert out.returncode != 0, f"host {h.name} has a route out: {out.stdout}"
        assert "unreachable" in out.stderr.lower()


def test_link_down_cuts_a_host_off(netns_hosts):
    topo = netns_hosts
    b = topo.hosts[0]
    with socket.socket() as server:
        server.bind((topo.a.address, 0))
        server.listen(8)
        port = server.getsockname()[1]
        topo.link_down(b)
        try:
            assert not _connects(topo, b, topo.a.address, port), "host B reached host A with its link down"
        finally:
            topo.link_up(b)
        deadline = time.monotonic() + 10
        while not _connects(topo, b, topo.a.address, port):
            assert time.monotonic() < deadline, "host B did not come back after link_up"
            time.sleep(0.2)


def test_listening_lists_ports_and_processes(netns_hosts):
    topo = netns_hosts
    c = topo.hosts[1]
    proc, port = _serve(topo, c, "127.0.0.1")
    try:
        mine = [x for x in topo.listening(c) if x.port == port]
        assert [(x.address, x.pids) for x in mine] == [("127.0.0.1", frozenset({proc.pid}))]
        assert all(x.port != port for x in topo.listening())  # not in host A
    finally:
        _stop(proc)


# --------------------------------------------------------------------------- HTEX over the bridge
@python_app
def where(host_a: str, i: int, pause: float = 0.0):
    """Which host ran this: the address it reaches host A from, and the pool's block."""
    import os
    import socket
    import time

    time.sleep(pause)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        mine = s.getsockname()[0]
    return i, i * i, mine, os.environ.get("PARSL_WORKER_BLOCK_ID")


def _config(tmp_path, topo, hosts, address, blocks, **kw):
    launcher = NetnsLauncher(hosts)
    ex = HighThroughputExecutor(
        label="multihost",
        address=address,
        max_workers_per_node=2,
        heartbeat_period=1,
        heartbeat_threshold=10,
        provider=LocalProvider(init_blocks=blocks, min_blocks=0, max_blocks=blocks, launcher=launcher),
        **kw,
    )
    return Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), strategy="none"), ex, launcher


def test_pools_on_three_hosts_run_tasks(netns_hosts, tmp_path):
    topo = netns_hosts
    config, ex, launcher = _config(tmp_path, topo, topo.hosts, topo.a.address, blocks=3)
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 3)
        results = [f.result(timeout=120) for f in [where(topo.a.address, i, 0.05) for i in range(60)]]
    finally:
        dfk.cleanup()
    assert [(i, sq) for i, sq, _, _ in results] == [(i, i * i) for i in range(60)]
    by_host = {}
    for _, _, address, block in results:
        by_host.setdefault(address, set()).add(block)
    assert set(by_host) == {h.address for h in topo.hosts}, f"tasks ran on {sorted(by_host)}"
    # each block ran on the host its launcher put it in, and on that host only
    placed = {str(n): h.address for n, h in enumerate(launcher.launched)}
    for address, blocks in by_host.items():
        assert all(placed[b] == address for b in blocks), (address, blocks, placed)
    assert_hosts_empty(topo)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def _free_port_range(size=50):
    """A range of ``size`` TCP ports whose first and eighth ports are free in host A now."""
    for lo in range(47000, 60000, size):
        if _free(lo) and _free(lo + 7):
            return lo, lo + size
    raise RuntimeError("no free port range")


@pytest.mark.parametrize("fixed", [False, True], ids=["worker_port_range", "worker_port"])
def test_address_by_interface_and_ports(netns_hosts, tmp_path, fixed):
    topo = netns_hosts
    address = address_by_interface(topo.bridge)
    assert address == topo.a.address
    worker_range = _free_port_range()
    ix_range = (worker_range[1], worker_range[1] + 50)
    kw = {"worker_port_range": worker_range, "interchange_port_range": ix_range}
    if fixed:
        kw["worker_port"] = worker_range[0] + 7
    before = {(x.address, x.port) for x in topo.listening() if os.getpid() in x.pids}
    config, ex, _ = _config(tmp_path, topo, topo.hosts[1], address, blocks=1, **kw)
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 1)
        assert where(address, 3).result(timeout=60)[:3] == (3, 9, topo.hosts[1].address)
        listening = topo.listening()
        ix_pid = ex._ix_proc.pid
        ix = [x for x in listening if ix_pid in x.pids]
        # the interchange's one TCP port: the worker port, in range, on host A's address only
        assert [(x.address, x.port) for x in ix] == [(address, ex.worker_port)], ix
        if fixed:
            assert ex.worker_port == worker_range[0] + 7
        else:
            assert worker_range[0] <= ex.worker_port < worker_range[1]
        # the executor talks to its interchange over pipes: the workflow process opened no port
        # (so none outside interchange_port_range, nor on loopback_address)
        after = {(x.address, x.port) for x in listening if os.getpid() in x.pids}
        assert after == before
        assert not [x for x in listening if ix_range[0] <= x.port < ix_range[1]]
        # nothing of ours listens inside the pool's host
        assert topo.listening(topo.hosts[1]) == []
    finally:
        dfk.cleanup()
    assert_hosts_empty(topo)
