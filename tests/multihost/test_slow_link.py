"""HTEX over a slow, lossy link: 20 ms each way and 1% packet loss between host A and the pools.

The link is slowlink.py's (this kernel has no ``tc netem``): nftables drops 1% of the packets
at the receiving end of each pool host's cable, and a relay on host A holds every chunk of the
worker connection 20 ms in each direction. The test checks the link was what it claims (the
TCP round trip through it, the relay's holds, the drop counters, TCP's retransmissions) and
that HTEX's results stay right over it: every task once, with its own arguments.
"""

from __future__ import annotations

import statistics
import time

import pytest
from htex_hosts import assert_hosts_empty, free_port, htex_config, require_tool, wait_for_managers
from slowlink import SlowLink, retransmitted_segments

import parsl
from parsl import python_app

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

DELAY_MS = 20
LOSS_PERCENT = 1
TASKS = 200


@python_app
def echo_where(host_a: str, i: int, text: str):
    """(i, i*i, text reversed, the address this host reaches host A from)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        return i, i * i, text[::-1], s.getsockname()[0]


def test_results_stay_right_over_a_slow_lossy_link(netns_hosts, tmp_path):
    require_tool("nft")
    topo = netns_hosts
    b, c = topo.hosts[0], topo.hosts[1]
    port = free_port()
    with SlowLink(topo, [b, c], port, delay_ms=DELAY_MS, loss_percent=LOSS_PERCENT) as link:
        rtts = {h.name: link.rtt_ms(h, 20) for h in (b, c)}
        resent_before = sum(retransmitted_segments(topo, h) for h in (b, c))
        config, ex, _ = htex_config(tmp_path, [b, c], topo.a.address, blocks=2, worker_port=port)
        dfk = parsl.load(config)
        try:
            wait_for_managers(ex, 2)
            started = time.monotonic()
            texts = [
                f"task {i} " * (2000 + i) for i in range(TASKS)
            ]  # ~20 kB each: some 5,000 packets each way
            futures = [echo_where(topo.a.address, i, texts[i]) for i in range(TASKS)]
            results = [f.result(timeout=120) for f in futures]
            took = time.monotonic() - started
        finally:
            dfk.cleanup()
        counters = link.counters()
        resent = sum(retransmitted_segments(topo, h) for h in (b, c)) - resent_before
    relayed = link.stats[f"{topo.a.address}:{port}"]
    print(
        f"\n{TASKS} tasks in {took:.1f} s; echo round trip p50 "
        f"{ {k: round(statistics.median(v), 1) for k, v in rtts.items()} } ms; drops {counters}; "
        f"segments B and C resent: {resent}; relay {relayed}"
    )

    # every task once, with its own arguments, on both hosts
    assert [r[:3] for r in results] == [(i, i * i, texts[i][::-1]) for i in range(TASKS)]
    assert {r[3] for r in results} == {b.address, c.address}
    assert all(f.task_record.fail_count == 0 for f in futures)
    assert took < 90, f"{TASKS} tasks took {took:.1f} s over the slow link"

    # the link was slow: a TCP round trip through it takes both holds, and so did HTEX's traffic
    for name, ms in rtts.items():
        assert min(ms) >= 2 * DELAY_MS, f"host {name}'s round trips: {ms}"
        assert statistics.median(ms) < 2 * DELAY_MS + 30, f"host {name}'s round trips: {ms}"
    assert relayed["connections"] >= 2, relayed  # one pool per host, each through the relay
    for way in ("to_target", "from_target"):
        assert relayed[way]["chunks"] > 0 and relayed[way]["min_hold_ms"] >= DELAY_MS, relayed
    assert all(n["redirected"] >= 1 for n in counters.values()), counters

    # and lossy: packets were dropped on the way, and TCP resent what it lost
    assert sum(n["to_a"] + n["from_a"] for n in counters.values()) > 0, counters
    assert resent > 0, f"no segment resent by hosts B and C; drops {counters}"
    assert_hosts_empty(topo)
