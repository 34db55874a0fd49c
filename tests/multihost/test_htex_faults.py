"""Network faults between hosts: a pool's host unplugged mid-run, a firewall in a pool's host.

Both must end in a clear outcome within a bound, never a hang: the unplugged host's tasks fail
with ManagerLost once ``heartbeat_threshold`` passes and run again on another host; a pool that
cannot reach the interchange's worker port fails its block with the address and port it tried.
"""

from __future__ import annotations

import time

import pytest
from htex_hosts import assert_hosts_empty, firewall, free_port, htex_config, wait_for_managers

import parsl
from parsl import python_app
from parsl.executors.errors import BadStateException

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


@python_app
def square_where(host_a: str, i: int, pause: float):
    """(i, i*i, the address this host reaches host A from) after ``pause`` seconds."""
    import socket
    import time

    time.sleep(pause)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        return i, i * i, s.getsockname()[0]


def _held_by(ex, block_id):
    """How many tasks the interchange has on the pool of ``block_id``; None: no such pool."""
    for manager in ex.connected_managers():
        if manager["block_id"] == block_id:
            return manager["tasks"]
    return None


def test_host_unplugged_mid_run_loses_its_tasks_to_other_hosts(netns_hosts, tmp_path):
    topo = netns_hosts
    b, c = topo.hosts[0], topo.hosts[1]
    threshold = 4
    config, ex, launcher = htex_config(
        tmp_path,
        [b, c],
        topo.a.address,
        blocks=2,
        retries=1,
        heartbeat_period=1,
        heartbeat_threshold=threshold,
    )
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 2)
        block_b = str(launcher.launched.index(b))
        futures = [square_where(topo.a.address, i, 1.0) for i in range(16)]
        deadline = time.monotonic() + 30
        while not _held_by(ex, block_b):
            assert time.monotonic() < deadline, "host B's pool got no task"
            time.sleep(0.05)
        topo.link_down(b)
        down_at = time.monotonic()
        try:
            time.sleep(1)  # nothing reaches the interchange from B now: what it holds there is fixed
            held = _held_by(ex, block_b)
            while _held_by(ex, block_b) is not None:
                assert time.monotonic() - down_at < threshold + 3, "host B's pool was not declared lost"
                time.sleep(0.1)
            lost_after = time.monotonic() - down_at
            results = [f.result(timeout=60) for f in futures]
        finally:
            topo.link_up(b)
    finally:
        dfk.cleanup()
    assert threshold - 1 <= lost_after <= threshold + 3, (
        f"declared lost {lost_after:.1f} s after the link went down"
    )
    assert [r[:2] for r in results] == [(i, i * i) for i in range(16)]
    retried = [f for f in futures if f.task_record.fail_count]
    # exactly the tasks B held were lost, each retried once and finished on C; nothing else failed
    assert held and len(retried) == held, (held, [f.tid for f in retried])
    for f in retried:
        assert f.task_record.fail_count == 1 and f.task_record.try_id == 1
        (failure,) = f.task_record.fail_history
        assert failure.startswith("ManagerLost("), failure
        assert f.result()[2] == c.address, f"task {f.tid} ran again on {f.result()[2]}, not on host C"
    assert all(f.task_record.fail_history is None for f in futures if f not in retried)
    assert_hosts_empty(topo)


def test_firewall_dropping_the_worker_port_fails_the_block(netns_hosts, tmp_path):
    topo = netns_hosts
    d = topo.hosts[2]
    port = free_port()
    with firewall(topo, d, f"ip daddr {topo.a.address} tcp dport {port}") as dropped:
        config, ex, _ = htex_config(
            tmp_path, d, topo.a.address, blocks=1, worker_port=port, address_probe_timeout=3
        )
        started = time.monotonic()
        dfk = parsl.load(config)
        try:
            assert ex.worker_port == port
            fut = square_where(topo.a.address, 1, 0.0)
            with pytest.raises(BadStateException) as info:
                fut.result(timeout=30)
            took = time.monotonic() - started
        finally:
            dfk.cleanup()
        assert dropped() > 0, "the firewall dropped nothing"
    text = str(info.value)
    assert took < 15, f"the block took {took:.1f} s to fail"
    assert f"cannot reach the interchange at any of {topo.a.address} port {port} within 3 s" in text, text
    assert f"{topo.a.address}:{port}: no answer (timed out: a firewall dropping the packets" in text, text
    assert "block 0" in text and ".stderr" in text, text
    assert_hosts_empty(topo)
