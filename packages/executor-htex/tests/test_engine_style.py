"""HTEX driven as a library, the way function-serving engines built on Parsl drive it: no
DataFlowKernel; the engine sets ``run_dir``, ``run_id`` and the provider's ``script_dir``, swaps
the launch commands for its own wrapper, hands a ``monitoring_messages`` queue, calls ``start()``
and ``scale_out_facade(provider.init_blocks)``, submits pre-serialized payloads with
``submit_payload`` and learns from ``NODE_INFO`` messages which block runs which task. Here the
interchange listens for worker pools on IPv6 loopback (``address="::1"``).
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from parsl.executors.errors import InvalidResourceSpecification
from parsl.monitoring.types import MessageType
from parsl.multiprocessing import SpawnQueue
from parsl.providers import LocalProvider
from parsl.serialize import pack_apply_message
from parsl_executor_htex import HighThroughputExecutor, __version__
from parsl_executor_htex.errors import InterchangeStartError

SCRIPTS = Path(__file__).parent / "scripts"


def _ipv6_loopback_works() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def ipv6_loopback():
    """::1 usable on this host; as root (CI), IPv6 switched on for loopback if it was off."""
    if not _ipv6_loopback_works() and os.geteuid() == 0:
        subprocess.run(
            ["sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.lo.disable_ipv6=0"],
            capture_output=True,
            check=False,
        )
    if not _ipv6_loopback_works():
        pytest.skip("IPv6 loopback (::1) is not available on this host and could not be enabled")
    return "::1"


def _python_exec(tmp_path: Path) -> tuple[str, Path]:
    """A wrapper like an engine's ``python-exec MODULE ARGS``: records MODULE, then runs it with
    this interpreter."""
    marker = tmp_path / "python-exec.log"
    wrapper = tmp_path / "python-exec"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {marker}\nexec {sys.executable} -m "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper), marker


def _established_from_ipv6_loopback(port: int) -> int:
    """How many established TCP connections reach local port ``port`` over ::1."""
    count = 0
    with open("/proc/net/tcp6") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr, _, lport = local.partition(":")
            if int(lport, 16) != port or state != "01":
                continue
            raw = bytes.fromhex(addr)  # four 32-bit words in host (little-endian) order
            ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
            count += ip == "::1"
    return count


def _node_messages_until(q, task_ids: set[int]) -> list[dict]:
    """NODE_INFO bodies from ``q`` until every id in ``task_ids`` was seen in one's ``tasks``."""
    seen: set[int] = set()
    bodies = []
    while not task_ids <= seen:
        kind, body = q.get(timeout=30)
        if kind == MessageType.NODE_INFO:
            bodies.append(body)
            seen.update(body["tasks"])
    return bodies


def test_an_engine_drives_htex_over_ipv6_without_a_dfk(tmp_path, ipv6_loopback, htex_tools):
    before = htex_tools.processes()
    ex = HighThroughputExecutor(
        label="engine",
        address=ipv6_loopback,
        max_workers_per_node=2,
        heartbeat_period=1,
        heartbeat_threshold=10,
        remote_monitoring_radio=object(),
        provider=LocalProvider(
            init_blocks=1, max_blocks=1, worker_init=f"export PYTHONPATH={SCRIPTS}:$PYTHONPATH"
        ),
    )
    # Parsl's defaults, which engines rewrite
    assert ex.launch_cmd.startswith("process_worker_pool.py ") and "--block_id={{block_id}}" in ex.launch_cmd
    assert ex.interchange_launch_cmd == ["interchange.py"]
    wrapper, marker = _python_exec(tmp_path)
    ex.interchange_launch_cmd = [wrapper, "parsl.executors.high_throughput.interchange"]
    ex.launch_cmd = re.sub(
        r"^process_worker_pool\.py",
        f"{wrapper} parsl.executors.high_throughput.process_worker_pool",
        ex.launch_cmd,
    )
    ex.run_dir = str(tmp_path / "run")
    ex.run_id = "engine-run"
    ex.provider.script_dir = str(tmp_path / "run" / "submit_scripts")
    os.makedirs(ex.provider.script_dir)
    ex.monitoring_messages = SpawnQueue()
    ex.start()
    try:
        # start() filled in the launch command, all but the block id
        assert ex.launch_cmd.startswith(f"{wrapper} parsl.executors.high_throughput.process_worker_pool ")
        assert "{block_id}" in ex.launch_cmd and "{debug}" not in ex.launch_cmd
        assert f"-a {ipv6_loopback} " in ex.launch_cmd
        assert ex.scale_out_facade(ex.provider.init_blocks) == ["0"]

        ctx = {"task_executor": {"f": "engine_tasks.run", "a": ("t",), "k": {"repeat": 2}}}
        futures = [ex.submit_payload(ctx, b"%d" % i) for i in range(6)]
        futures.append(
            ex.submit_payload({"resource_spec": {"priority": 1}}, pack_apply_message(pow, (2, 10), {}))
        )
        failing = ex.submit_payload({"task_executor": {"f": "engine_tasks.fail"}}, b"xyz")
        results = [f.result(timeout=60) for f in futures[:6]]
        assert [r["body"] for r in results] == [b"%d" % i * 2 for i in range(6)]
        assert {r["tag"] for r in results} == {"t"} and {r["block_id"] for r in results} == {"0"}
        assert futures[6].result(timeout=60) == 1024
        with pytest.raises(ValueError, match="refused 3 bytes"):
            failing.result(timeout=60)

        # which block ran which task, as an engine learns it
        ids = {f.parsl_executor_task_id for f in futures} | {failing.parsl_executor_task_id}
        assert ids == set(range(1, 9))
        nodes = _node_messages_until(ex.monitoring_messages, ids)
        assert nodes[0]["event"] == "registered" and nodes[0]["tasks"] == []
        for body in nodes:
            assert body["block_id"] == "0" and body["run_id"] == "engine-run"
            assert ex.blocks_to_job_id[body["block_id"]]
        pool = results[0]["pool"]
        assert {b["uid"] for b in nodes} == {pool}

        # the pools reached the interchange over IPv6 loopback, through the module-path wrappers
        port = int(re.search(r"--port=(\d+)", ex.launch_cmd).group(1))
        assert _established_from_ipv6_loopback(port) >= 1
        assert marker.read_text().split() == [
            "parsl.executors.high_throughput.interchange",
            "parsl.executors.high_throughput.process_worker_pool",
        ]

        [manager] = ex.connected_managers()
        assert manager["manager"] == pool and manager["block_id"] == "0"
        assert manager["parsl_version"] == __version__ and manager["python_version"] == sys.version.split()[0]
        packages = ex.connected_managers_packages()
        assert set(packages) == {pool}
        assert packages[pool]["parsl-executor-htex"] == __version__ and "pyzmq" in packages[pool]

        assert ex.outstanding() == 0 and ex.outstanding == 0
        assert ex._task_counter == 8
        ex.validate_resource_spec({"priority": 3})
        with pytest.raises(InvalidResourceSpecification):
            ex.validate_resource_spec({"cores": 3})
    finally:
        ex.shutdown()
        ex.monitoring_messages.close()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived shutdown"


def test_pools_of_other_versions_are_accepted_when_the_engine_turns_the_check_off(tmp_path, htex_tools):
    before = htex_tools.processes()
    ex = HighThroughputExecutor(
        label="mixed",
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=10,
        provider=LocalProvider(
            init_blocks=1, max_blocks=1, worker_init="export PARSL_HTEX_REPORT_VERSION=0.0.1"
        ),
    )
    ex._check_python_mismatch = False
    ex.run_dir = str(tmp_path)
    ex.provider.script_dir = str(tmp_path)
    ex.monitoring_messages = queue.Queue()
    ex.start()
    try:
        ex.scale_out_facade(1)
        fut = ex.submit_payload({"task_executor": {"f": "base64.b64encode"}}, b"hello")
        assert fut.result(timeout=60) == b"aGVsbG8="
        assert not ex.bad_state_is_set
    finally:
        ex.shutdown()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived shutdown"


def test_an_interchange_command_that_cannot_run_fails_start_naming_it(tmp_path, htex_tools):
    before = htex_tools.processes()
    ex = HighThroughputExecutor(label="noix", interchange_launch_cmd=[str(tmp_path / "no-such-python-exec")])
    ex.run_dir = str(tmp_path)
    with pytest.raises(InterchangeStartError, match="no-such-python-exec"):
        ex.start()
    assert not htex_tools.processes() - before
