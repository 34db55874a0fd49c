"""Monitoring with pools on other hosts: every host's pool, tries and resource samples reach
the workflow host's database over the executor's own connection (no port of monitoring's to
open), each row naming the block, and so the host, it came from."""

from __future__ import annotations

import sqlite3
import time

import pytest
from htex_hosts import wait_for_managers
from netns import NetnsLauncher

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


@python_app
def where(host_a: str, i: int):
    """The address this task's host reaches host A from, and its pool's block."""
    import os
    import socket

    time.sleep(0.05)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        return i, s.getsockname()[0], os.environ.get("PARSL_WORKER_BLOCK_ID")


def test_rows_from_every_host_reach_the_workflow_hosts_database(netns_hosts, tmp_path):
    topo = netns_hosts
    db = tmp_path / "monitoring.db"
    ex = HighThroughputExecutor(
        label="multihost_monitored",
        address=topo.a.address,
        max_workers_per_node=2,
        heartbeat_period=1,
        heartbeat_threshold=10,
        provider=LocalProvider(init_blocks=3, min_blocks=0, max_blocks=3, launcher=NetnsLauncher(topo.hosts)),
    )
    config = Config(
        executors=[ex],
        run_dir=str(tmp_path / "runinfo"),
        strategy="none",
        monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}", resource_monitoring_interval=0.2),
    )
    with parsl.load(config) as dfk:
        run_id = dfk.run_id
        wait_for_managers(ex, 3, timeout=60)
        results = [f.result(timeout=120) for f in [where(topo.a.address, i) for i in range(60)]]
    assert sorted(i for i, _, _ in results) == list(range(60))
    # the launcher put block N on host N mod 3: each block's tasks ran at that host's address
    host_of_block = {block: addr for _, addr, block in results}
    assert host_of_block == {str(n): topo.hosts[n].address for n in range(3)}, host_of_block

    with sqlite3.connect(db) as c:
        nodes = {r[0] for r in c.execute("SELECT block_id FROM node WHERE run_id = ?", (run_id,))}
        tries = c.execute(
            "SELECT block_id, count(*), count(hostname), count(task_try_time_running) FROM try "
            "WHERE run_id = ? GROUP BY block_id",
            (run_id,),
        ).fetchall()
        sampled = {
            r[0]
            for r in c.execute(
                "SELECT DISTINCT t.block_id FROM resource r JOIN try t ON "
                "(t.run_id, t.task_id, t.try_id) = (r.run_id, r.task_id, r.try_id) WHERE r.run_id = ?",
                (run_id,),
            )
        }
        running = c.execute(
            "SELECT count(DISTINCT task_id) FROM status WHERE run_id = ? AND task_status_name = 'running_ended'",
            (run_id,),
        ).fetchone()[0]
    assert nodes == {"0", "1", "2"}  # each host's pool registered
    assert {b for b, *_ in tries} == {"0", "1", "2"}
    assert sum(n for _, n, _, _ in tries) == 60  # one try per task, every one with its block
    assert all(n == named == ran for _, n, named, ran in tries)  # host and start time on each
    assert sampled == {"0", "1", "2"}  # resource samples from every host
    assert running == 60  # every task's end on its host was reported
