"""HTEX on the test hosts: a Config with pools placed in hosts by NetnsLauncher, and waits.

Python apps stay in the test modules: a pool unpickles an app by value only when its module
cannot be imported there, and this module is importable only through the tests' sys.path.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from netns import Host, NetnsLauncher, Topology

from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

__all__ = [
    "Capture",
    "assert_hosts_empty",
    "firewall",
    "free_port",
    "htex_config",
    "require_tool",
    "wait_for_managers",
]


def require_tool(name: str) -> None:
    """Skip the test when ``name`` is not installed (fail under ``CI=true``, which must run it)."""
    if shutil.which(name) is not None:
        return
    reason = f"{name} is not installed: run .ci/setup.d/60-netns.sh"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def htex_config(
    tmp_path: Path,
    hosts: Host | Sequence[Host],
    address: str,
    blocks: int,
    retries: int = 0,
    max_blocks: int | None = None,
    worker_init: str = "",
    **kw: Any,
) -> tuple[Config, HighThroughputExecutor, NetnsLauncher]:
    """One HTEX starting ``blocks`` blocks spread over ``hosts`` (``max_blocks``, default the
    same, allows more by hand; ``worker_init`` runs before each pool); strategy none, block
    status polled every 0.5 s."""
    launcher = NetnsLauncher(hosts)
    kw.setdefault("heartbeat_period", 1)
    kw.setdefault("heartbeat_threshold", 10)
    kw.setdefault("max_workers_per_node", 2)
    ex = HighThroughputExecutor(
        label="multihost",
        address=address,
        provider=LocalProvider(
            init_blocks=blocks,
            min_blocks=0,
            max_blocks=blocks if max_blocks is None else max_blocks,
            launcher=launcher,
            worker_init=worker_init,
        ),
        **kw,
    )
    config = Config(
        executors=[ex],
        run_dir=str(tmp_path / "runinfo"),
        strategy="none",
        strategy_period=0.5,
        retries=retries,
    )
    return config, ex, launcher


def wait_for_managers(ex: HighThroughputExecutor, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait until ``count`` pools are connected; return them."""
    deadline = time.monotonic() + timeout
    while len(managers := ex.connected_managers()) < count:
        assert time.monotonic() < deadline, f"{len(managers)} of {count} pools connected"
        time.sleep(0.2)
    return managers


def assert_hosts_empty(topo: Topology, timeout: float = 15) -> None:
    """No process is left in any test host (the pools stopped with the workflow)."""
    deadline = time.monotonic() + timeout
    for h in topo.hosts:
        assert h.netns is not None
        while True:
            left = subprocess.run(["ip", "netns", "pids", h.netns], capture_output=True, text=True).stdout
            if not left.split():
                break
            assert time.monotonic() < deadline, f"processes left in host {h.name}: {left.split()}"
            time.sleep(0.2)


def free_port(start: int = 47000) -> int:
    """A TCP port free on every address of host A now."""
    for port in range(start, 60000, 7):
        with socket.socket() as s:
            try:
                s.bind(("", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free TCP port between 47000 and 60000")


@contextlib.contextmanager
def firewall(topo: Topology, host: Host, *matches: str) -> Iterator[Callable[[], int]]:
    """nftables in ``host`` dropping the packets it sends that fit any of ``matches`` (such as
    ``ip daddr 10.0.0.1 tcp dport 80``); yields a function counting the packets dropped so far.
    The table is deleted on the way out."""
    require_tool("nft")
    table = f"pmh{os.getpid()}fw"
    drops = "".join(f"    {m} counter drop\n" for m in matches)
    rules = (
        f"table inet {table} {{\n  chain out {{\n"
        f"    type filter hook output priority 0; policy accept;\n{drops}  }}\n}}\n"
    )
    done = topo.run_in(host, ["nft", "-f", "-"], input=rules)
    assert done.returncode == 0, done.stderr

    def dropped() -> int:
        listed = topo.run_in(host, ["nft", "list", "table", "inet", table]).stdout
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", listed))

    try:
        yield dropped
    finally:
        topo.run_in(host, ["nft", "delete", "table", "inet", table])


class Capture:
    """tcpdump in ``host`` writing every TCP packet of its ``eth0`` to ``path``, whole and unbuffered.

    ``--immediate-mode`` hands each packet to tcpdump as it comes (without it, packets wait in
    the kernel's ring buffer and a capture stopped soon after is empty), ``-U`` writes each to
    the file at once, and ``-Z root`` keeps tcpdump from switching to a user that cannot write
    into a private temporary directory.

    ``start`` returns once tcpdump says it is listening; ``stop`` ends it with SIGINT, waits for
    it to flush and close the file, and returns the captured bytes.
    """

    def __init__(self, topo: Topology, host: Host, path: Path):
        self.topo, self.host, self.path = topo, host, path
        self.proc: subprocess.Popen[bytes] | None = None
        self.summary = ""

    def start(self, timeout: float = 15) -> Capture:
        argv = [
            "tcpdump",
            "-i",
            "eth0",
            "-n",
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-s",
            "0",
            "-w",
            str(self.path),
            "tcp",
        ]
        self.proc = self.topo.popen_in(self.host, argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        # "tcpdump: listening on eth0, link-type EN10MB ...": the capture is open from here on
        os.set_blocking(self.proc.stderr.fileno(), False)
        seen = b""
        deadline = time.monotonic() + timeout
        while b"listening on" not in seen:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"tcpdump in host {self.host.name} did not start: {seen.decode()!r}")
            seen += self.proc.stderr.read() or b""
            time.sleep(0.05)
        return self

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def stop(self, timeout: float = 15) -> bytes:
        proc = self.proc
        if proc is None:
            return b""
        self.proc = None
        if proc.poll() is None:
            # tcpdump stops at SIGINT without writing the packets it has not read yet: wait
            # until the file stops growing (the packets of a task come within milliseconds)
            deadline, size = time.monotonic() + 3, -1
            while time.monotonic() < deadline and size != (size := self._size()):
                time.sleep(0.3)
            proc.send_signal(signal.SIGINT)  # ip netns exec execs tcpdump: this pid is tcpdump's
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"tcpdump in host {self.host.name} ignored SIGINT for {timeout} s")
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), True)
        self.summary = proc.stderr.read().decode(errors="replace")  # "N packets captured ..."
        proc.stderr.close()
        return self.path.read_bytes() if self.path.exists() else b""
