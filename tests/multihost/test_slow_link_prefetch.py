"""A pool across a slow link is given enough short tasks to last the round trip.

The interchange times each pool's refill round trip (tasks sent to it while it held none, to
its next results) and, for short tasks, queues enough extra per worker to cover it
(``interchange.short_task_extra``). Over slowlink.py's relay at 20 ms each way a pool of 2
workers holds far more than the 2 + 2 it holds on a plain link, where the same run keeps it
at 2 + 2.
"""

from __future__ import annotations

import threading

import pytest
from htex_hosts import free_port, htex_config, require_tool, wait_for_managers
from slowlink import SlowLink

import parsl
from parsl import python_app
from parsl_executor_htex.interchange import MAX_EXTRA_PER_WORKER

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]

WORKERS = 2
TASKS = 3000


@python_app
def square(i: int) -> int:
    return i * i


def _most_held(tmp_path, topo, host, **kw) -> int:
    """The most tasks the pool on ``host`` held at once while it ran TASKS short tasks."""
    config, ex, _ = htex_config(tmp_path, [host], topo.a.address, blocks=1, **kw)
    with parsl.load(config):
        wait_for_managers(ex, 1)
        # warm up: the interchange learns the pool's mean task time and its refill round trip
        assert [f.result(timeout=60) for f in [square(i) for i in range(50)]] == [i * i for i in range(50)]
        most, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                held = [m["tasks"] for m in ex.connected_managers()]
                most[0] = max([most[0], *held])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            futures = [square(i) for i in range(TASKS)]
            assert [f.result(timeout=120) for f in futures] == [i * i for i in range(TASKS)]
        finally:
            stop.set()
            sampler.join()
    return most[0]


def test_a_pool_across_a_slow_link_holds_enough_tasks_for_the_round_trip(netns_hosts, tmp_path):
    require_tool("nft")
    topo = netns_hosts
    b = topo.hosts[0]
    plain = _most_held(tmp_path / "plain", topo, b, max_workers_per_node=WORKERS)
    # on the plain link: its workers plus one extra each, as before
    assert 0 < plain <= 2 * WORKERS, plain
    port = free_port()
    with SlowLink(topo, [b], port, delay_ms=20, loss_percent=0):
        slow = _most_held(tmp_path / "slow", topo, b, max_workers_per_node=WORKERS, worker_port=port)
    # 40 ms round trips against sub-millisecond tasks: the most it may be given, bounded
    assert 4 * WORKERS < slow <= WORKERS * (1 + MAX_EXTRA_PER_WORKER), (plain, slow)
