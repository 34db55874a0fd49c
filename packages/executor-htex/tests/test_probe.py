"""probe_addresses reports why each address failed, and describe_failure says it in words."""

from __future__ import annotations

import socket
import time

from parsl_executor_htex.probe import ORDER_GRACE, describe_failure, probe_addresses


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_answering_address_is_returned():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        errors: dict[str, OSError] = {}
        port = server.getsockname()[1]
        assert probe_addresses(["127.0.0.1"], port, 2, errors) == "127.0.0.1"
        assert errors == {}


def test_refused_address_is_reported():
    errors: dict[str, OSError] = {}
    assert probe_addresses(["127.0.0.1"], _closed_port(), 0.5, errors) is None
    assert isinstance(errors["127.0.0.1"], ConnectionRefusedError)
    assert describe_failure(errors["127.0.0.1"]).startswith("connection refused")


def test_failures_in_words():
    assert "firewall" in describe_failure(TimeoutError("timed out"))
    assert (
        describe_failure(OSError(101, "Network is unreachable"))
        == "OSError: [Errno 101] Network is unreachable"
    )


def _listeners(addresses: list[str], backlog: int = 512) -> tuple[list[socket.socket], int]:
    """Listening sockets on one port, one per loopback address (Linux answers on all 127/8);
    nothing accepts, so ``backlog`` must hold every probe's connection."""
    first = socket.socket()
    first.bind((addresses[0], 0))
    port = first.getsockname()[1]
    socks = [first]
    for address in addresses[1:]:
        s = socket.socket()
        s.bind((address, port))
        socks.append(s)
    for s in socks:
        s.listen(backlog)
    return socks, port


def test_list_order_wins_when_several_answer():
    # both answer within microseconds: the earlier one must win every time, not the faster thread
    socks, port = _listeners(["127.0.0.1", "127.0.0.2"])
    try:
        for _ in range(100):
            assert probe_addresses(["127.0.0.2", "127.0.0.1"], port, 5) == "127.0.0.2"
            assert probe_addresses(["127.0.0.1", "127.0.0.2"], port, 5) == "127.0.0.1"
    finally:
        for s in socks:
            s.close()


def test_an_earlier_address_that_drops_costs_at_most_the_grace():
    # a listener whose accept queue is full drops new SYNs, as a firewall would
    socks, port = _listeners(["127.0.0.2", "127.0.0.1"], backlog=0)
    fillers = []
    try:
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.2", port))
            fillers.append(c)
        socks[1].listen(512)
        started = time.monotonic()
        assert probe_addresses(["127.0.0.2", "127.0.0.1"], port, 10) == "127.0.0.1"
        assert time.monotonic() - started < ORDER_GRACE + 0.5
    finally:
        for s in socks + fillers:
            s.close()
