"""probe_addresses reports why each address failed, and describe_failure says it in words."""

from __future__ import annotations

import socket

from parsl_executor_htex.probe import describe_failure, probe_addresses


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
