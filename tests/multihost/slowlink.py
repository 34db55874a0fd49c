"""A slow, lossy link between host A and pool hosts, without ``tc netem``.

This machine's kernel has no netem qdisc (``tc`` answers "Specified qdisc kind is unknown"),
and nftables' ``queue`` statement is not built in either (``nft`` answers "Could not process
rule: No such file or directory"), so packets cannot be held in the kernel or handed to a
userspace delayer. The link is built from two real parts instead:

- **Loss**: nftables drops a random ``loss_percent`` of the packets between each pool host
  and host A at the ``netdev`` ingress hook of both ends of the host's cable: the host's
  ``eth0`` for packets from A, and A's end of the veth for packets to A. The packets are lost
  after leaving the sender, as on a bad link, with counters. Each end sends MTU-sized packets
  while the link is lossy (``gso_max_segs 1``), so one drop is one segment. TCP really detects the loss and
  retransmits (``TcpRetransSegs`` in the sender's ``/proc/net/snmp`` goes up); a drop at the
  sender's egress would instead be reported to its TCP at once.
- **Delay**: a relay process on host A (``python slowlink.py relay``) holds every chunk of
  bytes it reads for ``delay_ms`` before writing it on, in each direction, in order. A NAT
  rule in the pool host's namespace sends the pool host's connections for host A's ``port`` to the relay
  (``dnat``), and the relay connects on to host A's ``port``. Pools keep being told host A's
  real address and port, so neither HTEX nor upstream Parsl (which binds its worker port to
  ``address=``) needs to know.

What differs from netem: the delay is on the byte stream, not on packets. A round trip
through the relay costs at least ``2 * delay_ms`` (one hold each way, like netem on both
ends of the link), but TCP's own acknowledgements and retransmissions run over the fast
hop between the pool host and the relay, and the relay buffers without limit, so a large
transfer is not held back by TCP's window over the long round trip as it would be under
netem. ICMP (``ping``) is not delayed: :meth:`SlowLink.rtt_ms` measures the round trip with
TCP through the relay instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, final

__all__ = ["SlowLink", "retransmitted_segments"]


# --- the relay (runs as its own process: ``python slowlink.py relay ...``) ------------------


class _Direction:
    """Counters for one direction of one mapping: chunks, bytes, how long each was held."""

    def __init__(self) -> None:
        self.chunks = 0
        self.bytes = 0
        self.min_hold = float("inf")
        self.max_hold = 0.0

    def as_dict(self) -> dict[str, Any]:
        held = self.chunks > 0
        return {
            "chunks": self.chunks,
            "bytes": self.bytes,
            "min_hold_ms": self.min_hold * 1e3 if held else None,
            "max_hold_ms": self.max_hold * 1e3 if held else None,
        }


_EOF, _CLOSE = object(), object()


class _Side(asyncio.Protocol):
    """One of the two connections of a relayed pair. What it receives waits in ``pending``
    until ``delay`` has passed, then goes to its peer in the order received; one timer per
    side, set for the oldest chunk, so the hold costs no task or queue per chunk."""

    def __init__(self, delay: float, stats: _Direction) -> None:
        self.loop = asyncio.get_running_loop()
        self.delay, self.stats = delay, stats
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.pending: deque[tuple[float, Any]] = deque()  # (when read, bytes or _EOF or _CLOSE)
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._hold(data)

    def eof_received(self) -> bool:
        self._hold(_EOF)
        return True  # half-close: the other direction goes on until the peer ends it

    def connection_lost(self, exc: Exception | None) -> None:
        self._hold(_CLOSE)

    def pause_writing(self) -> None:  # the peer sends faster than this side can take
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None and not self.peer.transport.is_closing():
            self.peer.transport.resume_reading()

    def _hold(self, item: Any) -> None:
        self.pending.append((self.loop.time(), item))
        self.schedule()

    def schedule(self) -> None:
        """Set the timer for the oldest chunk, once the peer is connected."""
        if self.timer is None and self.pending and self.peer is not None and self.peer.transport is not None:
            self.timer = self.loop.call_at(self.pending[0][0] + self.delay, self._release)

    def _release(self) -> None:
        self.timer = None
        assert self.peer is not None and self.peer.transport is not None
        out = self.peer.transport
        now = self.loop.time()
        chunks = []
        while self.pending and self.pending[0][0] + self.delay <= now:
            read_at, item = self.pending.popleft()
            if isinstance(item, bytes):
                held = now - read_at
                self.stats.chunks += 1
                self.stats.bytes += len(item)
                self.stats.min_hold = min(self.stats.min_hold, held)
                self.stats.max_hold = max(self.stats.max_hold, held)
                chunks.append(item)
                continue
            if chunks and not out.is_closing():
                out.write(b"".join(chunks))
            chunks = []
            if item is _EOF and out.can_write_eof() and not out.is_closing():
                try:
                    out.write_eof()
                except OSError:  # the peer is gone already
                    out.abort()
            elif item is _CLOSE:
                out.close()  # after what was written: close() flushes the buffer first
        if chunks and not out.is_closing():
            out.write(b"".join(chunks))
        self.schedule()


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _relay(listen: str, targets: list[tuple[str, int]], delay: float, echo: bool) -> None:
    loop = asyncio.get_running_loop()
    stats: dict[str, dict[str, Any]] = {}
    connecting: set[asyncio.Task[None]] = set()  # held so that they are not collected mid-way
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    # stdin is a pipe from the test: its end means the test process is gone, so is the relay
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True
    ).start()
    if echo:  # an echo target inside this process, for measuring the round trip
        echo_server = await loop.create_server(_Echo, "127.0.0.1", 0)
        targets = [*targets, ("127.0.0.1", echo_server.sockets[0].getsockname()[1])]

    def accept(name: str, host: str, port: int) -> Any:
        slot = stats[name] = {"connections": 0, "to_target": _Direction(), "from_target": _Direction()}

        def client() -> _Side:
            slot["connections"] += 1
            near = _Side(delay, slot["to_target"])
            far = _Side(delay, slot["from_target"])
            near.peer, far.peer = far, near

            async def connect() -> None:
                try:
                    await loop.create_connection(lambda: far, host, port)
                except OSError:
                    if near.transport is not None:
                        near.transport.abort()  # nothing listens there: the client's connection ends
                    return
                near.schedule()  # what the client sent meanwhile is due now or soon

            task = loop.create_task(connect())
            connecting.add(task)
            task.add_done_callback(connecting.discard)
            return near

        return client

    ports = {}
    for i, (host, port) in enumerate(targets):
        name = "echo" if echo and i == len(targets) - 1 else f"{host}:{port}"
        server = await loop.create_server(accept(name, host, port), listen, 0)
        ports[name] = server.sockets[0].getsockname()[1]
    print(json.dumps({"listening": ports}), flush=True)
    await done.wait()
    report = {
        name: {k: (v.as_dict() if isinstance(v, _Direction) else v) for k, v in slot.items()}
        for name, slot in stats.items()
    }
    with contextlib.suppress(BrokenPipeError):  # nobody reads them when the test process died
        print(json.dumps({"stats": report}), flush=True)


def _relay_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="hold every chunk for --delay-ms, each way")
    parser.add_argument("--listen", required=True, help="address to listen on (a port per target)")
    parser.add_argument("--to", action="append", default=[], metavar="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--echo", action="store_true", help="also a port relaying to an echo server")
    args = parser.parse_args(argv)
    targets = [(t.rpartition(":")[0], int(t.rpartition(":")[2])) for t in args.to]
    asyncio.run(_relay(args.listen, targets, args.delay_ms / 1e3, args.echo))
    return 0


# --- the test side --------------------------------------------------------------------------

_ECHO_CLIENT = """
import json, socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
out = []
for i in range(count):
    msg = b"%064d" % i
    t0 = time.perf_counter()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(len(msg) - len(got))
        if not chunk:
            raise SystemExit("the relay closed the connection")
        got += chunk
    out.append((time.perf_counter() - t0) * 1e3)
    assert got == msg, (got, msg)
print(json.dumps(out))
"""


def retransmitted_segments(topo: Any, host: Any) -> int:
    """TCP segments retransmitted by ``host``'s kernel so far (``/proc/net/snmp``, per namespace)."""
    text = topo.run_in(host, ["cat", "/proc/net/snmp"], check=True).stdout
    head, values = [line.split() for line in text.splitlines() if line.startswith("Tcp:")][:2]
    return int(values[head.index("RetransSegs")])


@final
class SlowLink:
    """``delay_ms`` each way and ``loss_percent`` loss between host A and each of ``hosts``, for
    TCP to host A's ``port`` (the interchange's worker port; give HTEX ``worker_port=port``).

    Use as a context manager, or :meth:`start` then :meth:`stop`. :meth:`stop` returns the
    relay's counters (per target: connections, and per direction chunks, bytes and the
    shortest and longest hold in ms).
    """

    def __init__(
        self, topo: Any, hosts: Sequence[Any], port: int, delay_ms: float, loss_percent: float = 0.0
    ) -> None:
        if any(h.netns is None for h in hosts):
            raise ValueError("give namespaced pool hosts (B, C, ...): the link is built in them")
        if not 0 <= loss_percent < 100 or delay_ms < 0:
            raise ValueError(f"delay_ms={delay_ms!r}, loss_percent={loss_percent!r}: out of range")
        self.topo, self.hosts, self.port = topo, list(hosts), port
        self.delay_ms, self.loss_percent = delay_ms, loss_percent
        self.table = f"pmh{os.getpid()}slow"
        self.relay: subprocess.Popen[str] | None = None
        self.relay_port = 0
        self.echo_port = 0
        self.stats: dict[str, Any] = {}
        self._segs: list[tuple[Any, str, str]] = []  # (host, device, gso_max_segs before)

    def __enter__(self) -> SlowLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 15) -> SlowLink:
        a = self.topo.a.address
        self.relay = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "relay", "--listen", a]
            + ["--to", f"{a}:{self.port}", "--delay-ms", str(self.delay_ms), "--echo"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert self.relay.stdout is not None
            line = self.relay.stdout.readline()  # the relay prints its ports once it listens
            if not line:
                raise RuntimeError(f"the relay exited with {self.relay.wait(timeout)} before listening")
            ports = json.loads(line)["listening"]
            self.relay_port, self.echo_port = ports[f"{a}:{self.port}"], ports["echo"]
            for h in self.hosts:
                inside, at_a = self._rules(h)
                for where, text in ((h, inside), (self.topo.a, at_a)):
                    done = self._nft(where, ["-f", "-"], text)
                    if done.returncode != 0:
                        raise RuntimeError(f"nft in host {where.name} failed: {done.stderr.strip()}")
                if self.loss_percent:
                    self._one_segment_per_packet(h)
        except BaseException:
            self.stop()
            raise
        return self

    def _rules(self, host: Any) -> tuple[str, str]:
        """nftables text for ``host``'s namespace and for host A's end of its cable."""
        a = self.topo.a.address
        # numgen gives 0..9999: "< 100" is 1.00 %. Both drops are at the receiving end of the
        # cable (an egress drop would be reported to the sender's TCP, which then resends at
        # once instead of detecting a loss)
        cut = round(self.loss_percent * 100)
        lose_in = lose_out = ""
        if cut:
            lose_in = (
                f"  chain lose_in {{\n"
                f'    type filter hook ingress device "eth0" priority 0; policy accept;\n'
                f"    ip saddr {a} numgen random mod 10000 < {cut} counter drop\n"
                f"  }}\n"
            )
            lose_out = (
                f"  chain lose_out {{\n"
                f'    type filter hook ingress device "{host.link}" priority 0; policy accept;\n'
                f"    ip saddr {host.address} ip daddr {a} numgen random mod 10000 < {cut} counter drop\n"
                f"  }}\n"
            )
        inside = (
            f"table netdev {self.table} {{\n{lose_in}}}\n"
            f"table ip {self.table} {{\n"
            f"  chain to_relay {{\n"
            f"    type nat hook output priority -100; policy accept;\n"
            f"    ip daddr {a} tcp dport {self.port} counter dnat to {a}:{self.relay_port}\n"
            f"  }}\n"
            f"}}\n"
        )
        return inside, f"table netdev {self.table}{host.name.lower()} {{\n{lose_out}}}\n"

    def _one_segment_per_packet(self, host: Any) -> None:
        """Both ends of ``host``'s cable send MTU-sized packets, as a wire does: a veth passes
        64 kB GSO packets by default, and dropping one would lose some 45 segments at once."""
        for where, device in ((host, "eth0"), (self.topo.a, host.link)):
            shown = self.topo.run_in(where, ["ip", "-d", "link", "show", "dev", device], check=True).stdout
            before = re.search(r"gso_max_segs (\d+)", shown)
            self.topo.run_in(where, ["ip", "link", "set", "dev", device, "gso_max_segs", "1"], check=True)
            self._segs.append((where, device, before.group(1) if before else "65535"))

    def _nft(self, host: Any, argv: list[str], text: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.topo.run_in(host, ["nft", *argv], input=text)

    def counters(self) -> dict[str, dict[str, int]]:
        """Per host name: packets dropped on their way ``to_a`` and ``from_a``, and connections
        ``redirected`` to the relay (a NAT rule sees only the first packet of each)."""

        def count(host: Any, family: str, table: str, action: str) -> int:
            listed = self._nft(host, ["list", "table", family, table]).stdout
            return sum(int(n) for n in re.findall(rf"counter packets (\d+) bytes \d+ {action}", listed))

        return {
            h.name: {
                "to_a": count(self.topo.a, "netdev", f"{self.table}{h.name.lower()}", "drop"),
                "from_a": count(h, "netdev", self.table, "drop"),
                "redirected": count(h, "ip", self.table, "dnat"),
            }
            for h in self.hosts
        }

    def rtt_ms(self, host: Any, count: int = 20) -> list[float]:
        """``count`` round trips of 64 bytes from ``host`` through the relay to an echo server, in ms."""
        done = self.topo.run_in(
            host,
            [sys.executable, "-c", _ECHO_CLIENT, self.topo.a.address, str(self.echo_port), str(count)],
            timeout=60 + count * (1 + self.delay_ms / 500),
        )
        if done.returncode != 0:
            raise RuntimeError(f"echo from host {host.name} failed: {done.stderr.strip()}")
        return [float(x) for x in json.loads(done.stdout)]

    def stop(self, timeout: float = 15) -> dict[str, Any]:
        """Stop the relay, remove the rules; return the relay's counters (also in ``stats``)."""
        for h in self.hosts:
            self._nft(h, ["delete", "table", "netdev", self.table])
            self._nft(h, ["delete", "table", "ip", self.table])
            self._nft(self.topo.a, ["delete", "table", "netdev", f"{self.table}{h.name.lower()}"])
        while self._segs:
            where, device, before = self._segs.pop()
            self.topo.run_in(where, ["ip", "link", "set", "dev", device, "gso_max_segs", before])
        relay, self.relay = self.relay, None
        if relay is not None:
            if relay.poll() is None:
                relay.send_signal(signal.SIGTERM)
            try:
                out, _ = relay.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                relay.kill()
                out, _ = relay.communicate()
            for line in out.splitlines():
                if line.startswith('{"stats"'):
                    self.stats = json.loads(line)["stats"]
        return self.stats


if __name__ == "__main__" and sys.argv[1:2] == ["relay"]:
    sys.exit(_relay_main(sys.argv[2:]))
elif __name__ == "__main__":
    sys.exit(f"usage: {sys.argv[0]} relay --listen ADDRESS --to HOST:PORT --delay-ms MS [--echo]")
