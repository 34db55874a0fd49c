"""Address helpers return real addresses of this machine and never hang."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from parsl import addresses


def is_ipv4(value: str) -> bool:
    return isinstance(ipaddress.ip_address(value), ipaddress.IPv4Address)


def test_address_by_interface_loopback():
    assert addresses.address_by_interface("lo") == "127.0.0.1"


def test_address_by_interface_unknown():
    with pytest.raises(OSError, match="no-such-if"):
        addresses.address_by_interface("no-such-if")
    with pytest.raises(TypeError):
        addresses.address_by_interface(3)  # type: ignore[arg-type]


def test_address_by_hostname():
    assert is_ipv4(addresses.address_by_hostname())


def test_address_by_route_is_an_interface_address_or_raises():
    try:
        addr = addresses.address_by_route()
    except OSError as e:
        assert "address_by_interface" in str(e)
        return
    assert is_ipv4(addr)
    assert addr in addresses.get_all_addresses()


def test_address_by_query_fails_fast_or_answers():
    start = time.monotonic()
    try:
        addr = addresses.address_by_query(timeout=3)
    except (RuntimeError, TimeoutError) as e:
        assert "ipify" in str(e)
    else:
        assert ipaddress.ip_address(addr)
    assert time.monotonic() - start < 5


def test_address_by_query_timeout_is_bounded(monkeypatch):
    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(addresses.urllib.request, "urlopen", slow)
    monkeypatch.setattr(addresses, "address_by_route", lambda: "192.0.2.1")
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"0\.2"):
        addresses.address_by_query(timeout=0.2)
    assert time.monotonic() - start < 2


def test_address_by_query_rejects_bad_timeout():
    with pytest.raises(TypeError):
        addresses.address_by_query(timeout="30")  # type: ignore[arg-type]


def test_get_all_addresses_includes_every_interface():
    found = addresses.get_all_addresses()
    assert isinstance(found, set)
    assert "127.0.0.1" in found
    for _, name in socket.if_nameindex():
        try:
            assert addresses.address_by_interface(name) in found
        except OSError:
            pass


def test_get_any_address_prefers_non_loopback(monkeypatch):
    addr = addresses.get_any_address()
    assert is_ipv4(addr)
    non_loopback = [a for a in addresses.get_all_addresses() if not ipaddress.ip_address(a).is_loopback]
    if non_loopback:
        assert not ipaddress.ip_address(addr).is_loopback


def test_get_any_address_falls_back_then_raises(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("down")

    monkeypatch.setattr(addresses, "address_by_route", broken)
    monkeypatch.setattr(addresses, "address_by_query", broken)
    monkeypatch.setattr(addresses, "_interface_names", lambda: ["lo"])
    monkeypatch.setattr(addresses, "address_by_hostname", lambda: "127.0.1.1")
    assert addresses.get_any_address() == "127.0.0.1"

    monkeypatch.setattr(addresses, "_interface_names", list)
    assert addresses.get_any_address() == "127.0.1.1"

    monkeypatch.setattr(addresses, "address_by_hostname", broken)
    with pytest.raises(RuntimeError, match="Cannot find address"):
        addresses.get_any_address()
