"""Find which of the interchange's candidate addresses a worker pool can reach."""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["describe_failure", "probe_addresses"]


def describe_failure(error: OSError) -> str:
    """What a failed connection attempt says about the path to the interchange, in a few words."""
    if isinstance(error, TimeoutError):
        return "no answer (timed out: a firewall dropping the packets, or a host that is down)"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing listens on that port there)"
    return f"{type(error).__name__}: {error}"


def probe_addresses(
    addresses: list[str],
    port: int,
    timeout: float | None = 30,
    errors: dict[str, OSError] | None = None,
) -> str | None:
    """Return the first of ``addresses`` (in list order among those that answer) accepting a TCP
    connection on ``port``, trying them in parallel until ``timeout`` seconds pass. ``errors``,
    when given, receives each address's last failed attempt."""
    addresses = [a.strip() for a in addresses if a.strip()]
    if len(addresses) == 1 and timeout is None:
        return addresses[0]
    deadline = time.monotonic() + (30.0 if timeout is None else float(timeout))
    found: dict[str, bool] = {}
    done = threading.Event()

    def attempt(addr: str) -> None:
        while time.monotonic() < deadline and not done.is_set():
            try:
                with socket.create_connection(
                    (addr, port), timeout=min(2.0, max(0.1, deadline - time.monotonic()))
                ):
                    found[addr] = True
                    done.set()
                    return
            except OSError as e:
                if errors is not None:
                    errors[addr] = e
                time.sleep(0.1)

    threads = [threading.Thread(target=attempt, args=(a,), daemon=True) for a in addresses]
    for t in threads:
        t.start()
    done.wait(max(0.0, deadline - time.monotonic()))
    for a in addresses:
        if found.get(a):
            return a
    return None
