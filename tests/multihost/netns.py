"""Test hosts on one machine: Linux network namespaces joined by one bridge.

``create(3)`` makes a topology of hosts B, C, D, each a network namespace with its own ``lo``
and one veth interface (``eth0``) whose other end sits on a bridge in the root namespace. The
root namespace is host A (the workflow and the interchange run there): it has an address on
the bridge. Every host has its own address in one private /24 (``10.213.N.0/24``, ``.1`` for A)
and no default route, so nothing leaves the machine.

Every name holds the creating process's pid (``pmh<pid><letter>...``): parallel runs do not
collide, and :func:`cleanup_stale` removes what a dead process left behind (run it at session
start). :meth:`Topology.teardown` kills whatever still runs in the namespaces and deletes them
and the bridge. Needs root and ``ip`` from iproute2 (see ``.ci/setup.d/60-netns.sh``).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parsl.launchers import SingleNodeLauncher
from parsl.launchers.base import Launcher

__all__ = [
    "PREFIX",
    "Host",
    "Listener",
    "NetnsLauncher",
    "Topology",
    "cleanup_stale",
    "create",
    "unavailable_reason",
]

#: every interface and namespace these helpers make starts with this, then the creator's pid
PREFIX = "pmh"
_NAME = re.compile(rf"^{PREFIX}(\d+)")
#: the /24s tried, 10.213.N.0/24: private, and unlikely to be any real network's
_NET = "10.213"
_topologies = itertools.count()


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (not root, no ``ip netns``), or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    try:
        out = _ip("netns", "list", check=False)
    except FileNotFoundError:
        return "ip (iproute2) is not installed: run .ci/setup.d/60-netns.sh"
    except subprocess.TimeoutExpired:
        return "ip netns list did not answer within 30 s"
    if out.returncode != 0:
        return f"ip netns does not work here: {out.stderr.strip()}"
    for tool in ("ss",):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            return f"{tool} is not installed: run .ci/setup.d/60-netns.sh"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_inside(netns: str) -> None:
    """SIGKILL every process still in ``netns`` (a pool its executor did not stop)."""
    out = _ip("netns", "pids", netns, check=False)
    for pid in out.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def cleanup_stale() -> list[str]:
    """Delete namespaces and links named ``pmh<pid>...`` whose pid is dead; return their names."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1))):
            _kill_inside(name)
            _ip("netns", "del", name, check=False)
            removed.append(name)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        # "12: pmh123a-b@if11: <BROADCAST,...": the name, without the peer's suffix
        parts = line.split(":", 2)
        name = parts[1].strip().split("@")[0] if len(parts) > 2 else ""
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1))) and name not in removed:
            _ip("link", "del", name, check=False)
            removed.append(name)
    # nftables tables a dead run left in this namespace (slowlink.py puts some here)
    try:
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=30).stdout
    except (FileNotFoundError, subprocess.TimeoutExpired):
        tables = ""
    for family, name in re.findall(r"^table (\S+) (\S+)$", tables, re.MULTILINE):
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1))):
            subprocess.run(["nft", "delete", "table", family, name], capture_output=True, timeout=30)
            removed.append(name)
    return removed


def _plain(address: str) -> str:
    """An IPv4-mapped IPv6 address (a dual-stack socket bound to an IPv4 one) as IPv4."""
    try:
        mapped = ipaddress.ip_address(address.split("%")[0])
    except ValueError:  # "*"
        return address
    if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
        return str(mapped.ipv4_mapped)
    return address


def _free_subnet(pid: int) -> int:
    """A third octet N such that no address or route here uses 10.213.N.0/24."""
    used = (
        _ip("-4", "-o", "addr", "show", check=False).stdout + _ip("-4", "route", "show", check=False).stdout
    )
    taken = {int(n) for n in re.findall(rf"\b{re.escape(_NET)}\.(\d+)\.", used)}
    start = pid % 250
    for step in range(250):
        n = (start + step) % 250 + 1
        if n not in taken:
            return n
    raise RuntimeError(f"every {_NET}.N.0/24 is in use on this machine: delete stale {PREFIX}* bridges")


@dataclass(frozen=True)
class Host:
    """One test host: ``netns`` is None for host A, the root namespace."""

    name: str
    address: str
    netns: str | None
    #: its interface on the bridge in the root namespace (host A: the bridge itself)
    link: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as run inside this host."""
        if self.netns is None:
            return list(argv)
        return ["ip", "netns", "exec", self.netns, *argv]


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket, as ``ss -ltnp`` shows it."""

    address: str
    port: int
    pids: frozenset[int]


@dataclass
class Topology:
    """Host A (root namespace, on the bridge) and the namespaced hosts, made by :func:`create`."""

    bridge: str
    network: ipaddress.IPv4Network
    a: Host
    hosts: list[Host]
    _torn_down: bool = field(default=False, repr=False)

    def host(self, name: str) -> Host:
        for h in [self.a, *self.hosts]:
            if h.name == name:
                return h
        raise KeyError(f"no host {name!r}: the hosts are A and {[h.name for h in self.hosts]}")

    def run_in(self, host: Host, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside ``host`` (``ip netns exec``) and wait; output captured as text."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(host.command(argv), **kw)

    def popen_in(self, host: Host, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside ``host`` without waiting."""
        return subprocess.Popen(host.command(argv), **kw)

    def link_down(self, host: Host) -> None:
        """Unplug ``host``'s cable: its interface on the bridge goes down."""
        _ip("link", "set", host.link, "down")

    def link_up(self, host: Host) -> None:
        _ip("link", "set", host.link, "up")

    def listening(self, host: Host | None = None) -> list[Listener]:
        """The TCP sockets listening in ``host`` (default: host A), with their processes."""
        out = self.run_in(host or self.a, ["ss", "-ltnpH"], check=True).stdout
        found = []
        for line in out.splitlines():
            cols = line.split()
            if len(cols) < 4:
                continue
            local = cols[3]  # "0.0.0.0:54321", "*:54321", "[::]:54321", "10.213.7.1:54321"
            address, _, port = local.rpartition(":")
            pids = frozenset(int(p) for p in re.findall(r"pid=(\d+)", line))
            found.append(Listener(_plain(address.strip("[]")), int(port), pids))
        return found

    def teardown(self) -> None:
        """Kill what runs in the hosts, delete the namespaces, veths and the bridge. Idempotent."""
        if self._torn_down:
            return
        self._torn_down = True
        for h in self.hosts:
            assert h.netns is not None
            _kill_inside(h.netns)
            _ip("netns", "del", h.netns, check=False)
            _ip("link", "del", h.link, check=False)  # gone with its peer's namespace, usually
        _ip("link", "del", self.bridge, check=False)


def create(count: int = 3) -> Topology:
    """Make hosts B, C, ... (``count`` of them) on a new bridge with host A on it."""
    if not 1 <= count <= 25:
        raise ValueError(f"count={count!r}: make between 1 and 25 hosts")
    pid = os.getpid()
    tag = f"{PREFIX}{pid}{chr(ord('a') + next(_topologies) % 26)}"
    n = _free_subnet(pid)
    network = ipaddress.IPv4Network(f"{_NET}.{n}.0/24")
    bridge = f"{tag}br"
    a = Host("A", f"{_NET}.{n}.1", None, bridge)
    hosts = [
        Host(
            chr(ord("B") + i),
            f"{_NET}.{n}.{i + 2}",
            f"{tag}-{chr(ord('b') + i)}",
            f"{tag}-{chr(ord('b') + i)}",
        )
        for i in range(count)
    ]
    topology = Topology(bridge, network, a, hosts)
    lines = [
        f"link add {bridge} type bridge",
        f"addr add {a.address}/24 dev {bridge}",
        f"link set {bridge} up",
    ]
    for h in hosts:
        peer = f"{h.link}p"
        lines += [
            f"netns add {h.netns}",
            f"link add {h.link} type veth peer name {peer}",
            f"link set {peer} netns {h.netns}",
            f"link set {h.link} master {bridge}",
            f"link set {h.link} up",
            f"-n {h.netns} link set {peer} name eth0",
            f"-n {h.netns} addr add {h.address}/24 dev eth0",
            f"-n {h.netns} link set eth0 up",
            f"-n {h.netns} link set lo up",
        ]
    try:
        for line in lines:
            _ip(*shlex.split(line))
        _wait_reachable(topology)
    except BaseException as e:
        topology.teardown()
        if isinstance(e, subprocess.CalledProcessError):
            raise RuntimeError(f"{shlex.join(e.cmd)} failed: {e.stderr.strip()}") from e
        raise
    return topology


def _wait_reachable(topology: Topology, timeout: float = 10) -> None:
    """Wait until every host's eth0 is up with its address usable (no tentative state)."""
    deadline = time.monotonic() + timeout
    for h in topology.hosts:
        while True:
            out = topology.run_in(h, ["ip", "-o", "link", "show", "eth0"]).stdout
            if "LOWER_UP" in out:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"host {h.name}'s eth0 did not come up: {out.strip()}")
            time.sleep(0.05)


class NetnsLauncher(Launcher):
    """Run a block inside a test host: the launch text of ``launcher`` (``SingleNodeLauncher``
    by default) runs under ``ip netns exec``. With several hosts, the Nth block launched goes
    to ``hosts[N % len(hosts)]``, so one provider spreads its blocks over the hosts."""

    def __init__(self, hosts: Host | Sequence[Host], launcher: Launcher | None = None, debug: bool = True):
        super().__init__(debug=debug)
        self.hosts = [hosts] if isinstance(hosts, Host) else list(hosts)
        if not self.hosts or any(h.netns is None for h in self.hosts):
            raise ValueError(f"hosts={hosts!r}: give namespaced hosts (B, C, ...), not host A")
        self.launcher = launcher if launcher is not None else SingleNodeLauncher(debug=debug)
        self.launched: list[Host] = []  # where each call put its block, in order

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        host = self.hosts[len(self.launched) % len(self.hosts)]
        self.launched.append(host)
        inner = self.launcher(command, tasks_per_node, nodes_per_block, script_dir)
        assert host.netns is not None
        return f"exec ip netns exec {shlex.quote(host.netns)} /bin/bash -c {shlex.quote(inner)}"
