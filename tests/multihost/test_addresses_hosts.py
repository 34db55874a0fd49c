"""Addresses across hosts: the ``parsl.addresses`` helpers run inside a host with no way out,
and a pool on host B given the interchange's address list, tried in order.

Inside a host the helpers must answer at once when there is no route out (``address_by_query``
included, whatever its timeout), within its timeout when a route leads nowhere, and the
fallbacks (``get_any_address``, ``get_all_addresses``, which the executor uses when ``address``
is not given) must still give the host's own address. Each host gets its own host name (a UTS
namespace) resolved by its own ``/etc/hosts`` (``/etc/netns/<name>/hosts``, which
``ip netns exec`` mounts over ``/etc/hosts``), as a real compute node has.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest
from htex_hosts import assert_hosts_empty, firewall, htex_config, wait_for_managers
from netns import _plain

import parsl
from parsl import python_app

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

_HELPERS = """
import json, sys, time
import parsl.addresses as a

calls = {
    "route": a.address_by_route,
    "hostname": a.address_by_hostname,
    "interface": lambda: a.address_by_interface("eth0"),
    "query": lambda: a.address_by_query(timeout=float(sys.argv[1])),
    "any": a.get_any_address,
    "all": lambda: sorted(a.get_all_addresses()),
}
out = {}
for name, call in calls.items():
    started = time.monotonic()
    try:
        out[name] = {"value": call()}
    except Exception as e:
        out[name] = {"error": f"{type(e).__name__}: {e}"}
    out[name]["seconds"] = time.monotonic() - started
print(json.dumps(out))
"""


def _host_name(host) -> str:
    return f"node-{host.name.lower()}"


@pytest.fixture
def named_hosts(netns_hosts):
    """Each of hosts B, C, D resolves its own name (``node-b`` ...) to its own address."""
    made = []
    try:
        for h in netns_hosts.hosts:
            etc = Path("/etc/netns") / h.netns
            etc.mkdir(parents=True, exist_ok=True)  # a killed run may have left it
            made.append(etc)
            (etc / "hosts").write_text(f"127.0.0.1 localhost\n{h.address} {_host_name(h)}\n")
        yield netns_hosts
    finally:
        for etc in made:
            shutil.rmtree(etc, ignore_errors=True)


def _helpers_in(topo, host, query_timeout: float) -> dict:
    """Every helper's answer (or error) and time, run in ``host`` under its own host name."""
    argv = ["unshare", "--uts", "sh", "-c", f'hostname {_host_name(host)} && exec "$@"', "sh"]
    argv += [sys.executable, "-c", _HELPERS, str(query_timeout)]
    done = topo.run_in(host, argv)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_helpers_in_a_host_with_no_route_out(named_hosts):
    topo = named_hosts
    b = topo.hosts[0]
    found = _helpers_in(topo, b, query_timeout=30)
    assert found["route"]["error"].startswith("OSError: [Errno 101] No route to the internet"), found
    # no route out: the query gives up at once, not after its 30 s
    assert found["query"]["error"].startswith("RuntimeError: Cannot query"), found
    assert found["query"]["seconds"] < 1, found
    assert found["hostname"]["value"] == b.address, found
    assert found["interface"]["value"] == b.address, found
    # the fallbacks skip the route and the query and still find the host's own address
    assert found["any"]["value"] == b.address, found
    assert found["all"]["value"] == sorted(["127.0.0.1", b.address]), found
    assert all(r["seconds"] < 1 for r in found.values()), found


def test_helpers_in_a_host_whose_route_leads_nowhere(named_hosts):
    topo = named_hosts
    d = topo.hosts[2]
    # a default route through a gateway nobody has: routing works, nothing gets anywhere
    gateway = str(topo.network[250])
    assert topo.run_in(d, ["ip", "route", "add", "default", "via", gateway]).returncode == 0
    try:
        found = _helpers_in(topo, d, query_timeout=3)
    finally:
        topo.run_in(d, ["ip", "route", "del", "default"])
    assert found["route"]["value"] == d.address, found  # the host's own address, not the gateway's
    assert found["route"]["seconds"] < 1, found
    # the query has a route but no answer: it fails within its own timeout (3 s)
    assert found["query"]["error"].split(":")[0] in ("TimeoutError", "RuntimeError"), found
    assert found["query"]["seconds"] < 3 + 1, found
    assert found["any"]["value"] == d.address and found["any"]["seconds"] < 1, found
    # get_all_addresses tries the query for 5 s, then falls back to what it found itself
    assert found["all"]["value"] == sorted(["127.0.0.1", d.address]), found
    assert found["all"]["seconds"] < 5 + 2, found


# --------------------------------------------------------------------------- the address list
@python_app
def square(i: int):
    return i * i


def _pool_peers(topo, host, port: int) -> set[str]:
    """The addresses ``host`` has established TCP connections to on ``port``."""
    out = topo.run_in(host, ["ss", "-tnH", "state", "established", f"dport = :{port}"]).stdout
    return {
        _plain(line.split()[-1].rpartition(":")[0].strip("[]")) for line in out.splitlines() if line.strip()
    }


def _connect_via(topo, tmp_path, addresses: list[str], probe_timeout: int = 20):
    """Start one pool on host B told ``addresses``; return (seconds until it connected, the
    address its connection went to). ``loopback_address`` is set and must open nothing."""
    b = topo.hosts[0]
    config, ex, _ = htex_config(
        tmp_path,
        b,
        ",".join(addresses),
        blocks=1,
        address_probe_timeout=probe_timeout,
        loopback_address="127.0.0.9",
    )
    started = time.monotonic()
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 1, timeout=probe_timeout + 10)
        took = time.monotonic() - started
        assert square(7).result(timeout=30) == 49
        peers = _pool_peers(topo, b, ex.worker_port)
        assert not [x for x in topo.listening() if x.address == "127.0.0.9"]
    finally:
        dfk.cleanup()
    assert_hosts_empty(topo)
    (peer,) = peers
    return took, peer


@pytest.fixture
def second_address(netns_hosts):
    """A second address of host A on the bridge, reachable from every host."""
    topo = netns_hosts
    extra = str(topo.network[200])
    assert topo.run_in(topo.a, ["ip", "addr", "add", f"{extra}/24", "dev", topo.bridge]).returncode == 0
    yield extra
    topo.run_in(topo.a, ["ip", "addr", "del", f"{extra}/24", "dev", topo.bridge])


def test_first_address_refused_in_the_pools_host(netns_hosts, tmp_path):
    # 127.0.0.1 is the interchange's on host A, but host B's own loopback in host B: refused there
    topo = netns_hosts
    took, peer = _connect_via(topo, tmp_path, ["127.0.0.1", topo.a.address])
    assert peer == topo.a.address
    assert took < 10, f"the pool took {took:.1f} s to connect"


def test_first_address_dropped_by_a_firewall(netns_hosts, second_address, tmp_path):
    topo = netns_hosts
    with firewall(topo, topo.hosts[0], f"ip daddr {second_address}") as dropped:
        took, peer = _connect_via(topo, tmp_path, [second_address, topo.a.address])
        assert dropped() > 0, "the firewall dropped nothing: the first address was not tried"
    assert peer == topo.a.address
    # tried at once, not one after the other: the dropped one costs well under its 20 s
    assert took < 10, f"the pool took {took:.1f} s to connect"


@pytest.mark.parametrize("first", ["second", "bridge"])
def test_addresses_that_both_answer_are_used_in_list_order(netns_hosts, second_address, tmp_path, first):
    topo = netns_hosts
    both = [second_address, topo.a.address]
    if first == "bridge":
        both.reverse()
    _, peer = _connect_via(topo, tmp_path, both)
    assert peer == both[0]
