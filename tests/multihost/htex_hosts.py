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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from netns import Host, NetnsLauncher, Topology

from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor

__all__ = [
    "SSHD_DIR",
    "Capture",
    "Sshds",
    "assert_hosts_empty",
    "firewall",
    "free_port",
    "htex_config",
    "require_tool",
    "sshds",
    "wait_for_managers",
]

#: the test sshd's keys (.ci/infra/sshd-up.sh makes them): its host keys serve every host's sshd
SSHD_DIR = Path(os.environ.get("SSHD_DIR", "/tmp/parsl-sshd"))
_SSHD_UP = Path(__file__).resolve().parents[2] / ".ci" / "infra" / "sshd-up.sh"


def require_tool(name: str) -> None:
    """Skip the test when ``name`` is not installed (fail under ``CI=true``, which must run it)."""
    if shutil.which(name) is not None:
        return
    _skip_or_fail(f"{name} is not installed: run .ci/setup.d/60-netns.sh")


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


def _cmdline(pid: str) -> str | None:
    """The process's command line ("" for a zombie), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def assert_hosts_empty(topo: Topology, timeout: float = 15, ignore: Sequence[str] = ()) -> None:
    """No process is left in any test host (the pools stopped with the workflow), but those
    whose command line holds one of ``ignore`` (such as the test's own ``sshd``)."""
    deadline = time.monotonic() + timeout
    for h in topo.hosts:
        assert h.netns is not None
        while True:
            pids = subprocess.run(["ip", "netns", "pids", h.netns], capture_output=True, text=True).stdout
            left = [
                (p, cmd)
                for p in pids.split()
                if (cmd := _cmdline(p)) is not None and not any(i in cmd for i in ignore)
            ]
            if not left:
                break
            assert time.monotonic() < deadline, f"processes left in host {h.name}: {left}"
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


@dataclass(frozen=True)
class Sshds:
    """What :func:`sshds` started: ``known_hosts`` names every host's key, ``logs[name]`` is
    host ``name``'s sshd log (who logged in, from which address)."""

    known_hosts: Path
    logs: dict[str, Path]

    def ssh_command(self) -> str:
        """An ``ssh`` command line as root with the test key, checking host keys strictly."""
        return (
            f"ssh -i {SSHD_DIR}/id_ed25519 -o UserKnownHostsFile={self.known_hosts} "
            "-o StrictHostKeyChecking=yes -o BatchMode=yes"
        )


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def sshds(topo: Topology, hosts: Sequence[Host], workdir: Path) -> Iterator[Sshds]:
    """An sshd in each of ``hosts`` on port 22 of the host's address (root, the test key only);
    stopped on the way out. Configuration and logs go to ``workdir``."""
    if not (SSHD_DIR / "id_ed25519").exists() or not Path("/usr/sbin/sshd").exists():
        done = subprocess.run(["bash", str(_SSHD_UP)], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            _skip_or_fail(f"the test sshd's keys could not be made: {done.stderr.strip()[-300:]}")
    known = workdir / "known_hosts"
    logs = {h.name: workdir / f"sshd_{h.name}.log" for h in hosts}
    procs = []
    lines = []
    try:
        for h in hosts:
            cfg = workdir / f"sshd_config_{h.name}"
            cfg.write_text(
                f"ListenAddress {h.address}\nPort 22\n"
                f"HostKey {SSHD_DIR}/host_ed25519\nHostKey {SSHD_DIR}/host_rsa\n"
                f"PidFile {workdir}/sshd_{h.name}.pid\n"
                f"AuthorizedKeysFile {SSHD_DIR}/authorized_keys\n"
                "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                "StrictModes no\nPrintMotd no\nSubsystem sftp internal-sftp\n"
            )
            # -D: in the foreground, so we own it; -E: its log to a file
            argv = ["/usr/sbin/sshd", "-D", "-E", str(logs[h.name]), "-f", str(cfg)]
            procs.append(topo.popen_in(h, argv))
            for kind in ("ed25519", "rsa"):
                key = " ".join((SSHD_DIR / f"host_{kind}.pub").read_text().split()[:2])
                lines.append(f"{h.address} {key}")
        known.write_text("\n".join(lines) + "\n")
        for h in hosts:  # each answers on port 22 of its own address
            deadline = time.monotonic() + 20
            while not any(x.port == 22 and x.address == h.address for x in topo.listening(h)):
                assert time.monotonic() < deadline, f"sshd did not start in host {h.name}"
                time.sleep(0.1)
        yield Sshds(known, logs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


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
