"""Ways to find an IP address of this machine, e.g. for an executor's ``address`` parameter.

Which one gives an address that workers can reach depends on the network, so
several are offered. None of them hangs: network look-ups are bounded by a
timeout and fail with a clear error.
"""

from __future__ import annotations

import ipaddress
import logging
import numbers
import os
import platform
import socket
import struct
import sys
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

__all__ = [
    "address_by_hostname",
    "address_by_interface",
    "address_by_query",
    "address_by_route",
    "get_all_addresses",
    "get_any_address",
    "tcp_url",
]

_ROUTE_TARGET = ("8.8.8.8", 80)
_QUERY_URL = "https://api.ipify.org"
# get_all_addresses / get_any_address give the public-address query less time than a direct call.
_AUTO_QUERY_TIMEOUT = 5.0
_HOSTNAME_TIMEOUT = 10.0
# SIOCGIFADDR: ask the kernel for an interface's IPv4 address.
_SIOCGIFADDR = 0x8915 if sys.platform.startswith("linux") else 0xC0206921


def _call_with_timeout(fn: Callable[[], Any], timeout: float, what: str) -> Any:
    """Run ``fn`` on a daemon thread; raise TimeoutError if it has not returned in ``timeout`` s."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the caller below
            box["error"] = e

    thread = threading.Thread(target=run, name=f"parsl-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{what} took longer than {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def address_by_route() -> str:
    """Address of the interface that routes to the internet (the route to 8.8.8.8).

    No packet is sent. Raises OSError when there is no such route; the address may
    be unusable if workers cannot reach this host's internet-facing interface.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_ROUTE_TARGET)
            addr = s.getsockname()[0]
    except OSError as e:
        raise OSError(
            e.errno,
            f"No route to the internet from this host ({e.strerror or e}); use "
            "address_by_interface('<name>') or address_by_hostname() instead",
        ) from e
    if not addr or addr == "0.0.0.0":
        raise OSError(
            "The routing table gave no source address for the internet route; use "
            "address_by_interface('<name>') or address_by_hostname() instead"
        )
    logger.debug("Address by route: %s", addr)
    return addr


def address_by_query(timeout: float = 30) -> str:
    """This host's public address as seen by the ipify web service.

    Gives up after ``timeout`` seconds, and at once when the host has no route
    to the internet and no proxy is configured; raises RuntimeError or
    TimeoutError then. Behind NAT the address may not be reachable by workers.
    """
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not urllib.request.getproxies():
        try:
            address_by_route()
        except OSError as e:
            raise RuntimeError(f"Cannot query {_QUERY_URL}: {e}") from e

    def fetch() -> tuple[int, str]:
        with urllib.request.urlopen(_QUERY_URL, timeout=timeout) as response:
            return response.status, response.read(100).decode("ascii", errors="replace").strip()

    try:
        status, body = _call_with_timeout(fetch, timeout, "address-query")
    except TimeoutError as e:
        raise TimeoutError(f"No answer from {_QUERY_URL} within {timeout} s") from e
    except Exception as e:
        raise RuntimeError(f"Could not query {_QUERY_URL} for this host's public address: {e}") from e
    if status != 200:
        raise RuntimeError(f"Remote service returned unexpected HTTP status code {status}")
    try:
        ipaddress.ip_address(body)
    except ValueError as e:
        raise RuntimeError(f"{_QUERY_URL} answered {body!r}, which is not an IP address") from e
    logger.debug("Address by query: %s", body)
    return body


def address_by_hostname() -> str:
    """The address this host's name resolves to (unusable if workers cannot resolve it)."""
    name = platform.node()
    try:
        addr = _call_with_timeout(lambda: socket.gethostbyname(name), _HOSTNAME_TIMEOUT, "hostname-lookup")
    except TimeoutError as e:
        raise OSError(f"Resolving the host name {name!r} took longer than {_HOSTNAME_TIMEOUT} s") from e
    logger.debug("Address by hostname %s: %s", name, addr)
    return addr


def address_by_interface(ifname: str) -> str:
    """IPv4 address of network interface ``ifname``, e.g. ``'eth0'`` or ``'ib0'``.

    Raises OSError if the interface does not exist or has no IPv4 address.
    """
    if not isinstance(ifname, str):
        raise TypeError(f"ifname must be an interface name (str), not {type(ifname).__name__}")
    if fcntl is None:
        raise OSError(
            "address_by_interface needs fcntl, which this platform lacks; "
            "use address_by_hostname() or address_by_route()"
        )
    request = struct.pack("256s", ifname[:15].encode())
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            answer = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, request)
    except OSError as e:
        known = ", ".join(_interface_names()) or "none found"
        raise OSError(
            e.errno,
            f"No IPv4 address for interface {ifname!r} ({e.strerror}); interfaces on this host: {known}",
        ) from e
    return socket.inet_ntoa(answer[20:24])


def _interface_names() -> list[str]:
    try:
        return [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):
        pass
    try:
        return sorted(os.listdir("/sys/class/net"))
    except OSError:
        return []


def _interface_addresses() -> list[str]:
    found = []
    for name in _interface_names():
        try:
            found.append(address_by_interface(name))
        except OSError:
            logger.debug("Interface %s has no IPv4 address", name)
    return found


def _is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def get_all_addresses() -> set[str]:
    """Every address the methods of this module find (interfaces, host name, route, public)."""
    addresses = set(_interface_addresses())
    route_ok = False
    for finder in (address_by_hostname, address_by_route):
        try:
            addresses.add(finder())
            route_ok = route_ok or finder is address_by_route
        except Exception as e:
            logger.debug("%s failed: %s", finder.__name__, e)
    if route_ok:
        try:
            addresses.add(address_by_query(timeout=_AUTO_QUERY_TIMEOUT))
        except Exception as e:
            logger.debug("address_by_query failed: %s", e)
    return addresses


def get_any_address() -> str:
    """One address of this machine, preferring one other machines can reach.

    Tries, in order: the internet route, non-loopback interfaces, the host name,
    loopback, and last the public-address query. Raises RuntimeError if all fail.
    """
    candidates: list[Callable[[], Any]] = [
        address_by_route,
        lambda: [a for a in _interface_addresses() if not _is_loopback(a)],
        address_by_hostname,
        lambda: _interface_addresses(),
        lambda: address_by_query(timeout=_AUTO_QUERY_TIMEOUT),
    ]
    for finder in candidates:
        try:
            found = finder()
        except Exception as e:
            logger.debug("Address finder failed: %s", e)
            continue
        if isinstance(found, list):
            if found:
                return found[0]
            continue
        if found and (finder is not address_by_hostname or not _is_loopback(found)):
            return found
    # Last resort: a loopback host name answer is better than nothing.
    try:
        return address_by_hostname()
    except Exception as e:
        raise RuntimeError(
            "Cannot find address of the local machine: no interface has an IPv4 "
            "address and the host name does not resolve"
        ) from e


def tcp_url(address: str, port: int | str | None = None) -> str:
    """A ZeroMQ-style ``tcp://`` URL: ``tcp://10.0.0.1:5000``, ``tcp://[::1]:5000``, ``tcp://*``.

    An IPv6 address is bracketed when a port follows it; ``*`` (any interface) is kept.
    """
    if port is None:
        return f"tcp://{address}"
    host = address
    if address != "*":
        try:
            if ipaddress.ip_address(address).version == 6:
                host = f"[{address}]"
        except ValueError:
            pass  # a host name
    return f"tcp://{host}:{port}"
