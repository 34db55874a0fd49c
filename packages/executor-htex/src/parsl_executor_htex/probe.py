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


#: how long an address that answered waits for earlier-listed ones still on their first attempt
ORDER_GRACE = 0.5


def probe_addresses(
    addresses: list[str],
    port: int,
    timeout: float | None = 30,
    errors: dict[str, OSError] | None = None,
) -> str | None:
    """Return the first of ``addresses``, in list order, that accepts a TCP connection on
    ``port``, trying them in parallel until ``timeout`` seconds pass. Once one answers, the
    addresses listed before it that are still on their first attempt get ``ORDER_GRACE``
    seconds to answer too, so an earlier address wins when it answers about as fast (a
    dropped one costs at most the grace). ``errors``, when given, receives each address's
    last failed attempt."""
    addresses = [a.strip() for a in addresses if a.strip()]
    if len(addresses) == 1 and timeout is None:
        return addresses[0]
    deadline = time.monotonic() + (30.0 if timeout is None else float(timeout))
    found: dict[str, bool] = {}
    done = threading.Event()
    # set when an address's first attempt has ended, either way
    tried = {a: threading.Event() for a in addresses}

    def attempt(addr: str) -> None:
        while time.monotonic() < deadline and not done.is_set():
            try:
                with socket.create_connection(
                    (addr, port), timeout=min(2.0, max(0.1, deadline - time.monotonic()))
                ):
                    found[addr] = True
                    tried[addr].set()
                    done.set()
                    return
            except OSError as e:
                if errors is not None:
                    errors[addr] = e
                tried[addr].set()
                time.sleep(0.1)

    threads = [threading.Thread(target=attempt, args=(a,), daemon=True) for a in addresses]
    for t in threads:
        t.start()
    done.wait(max(0.0, deadline - time.monotonic()))
    first = next((i for i, a in enumerate(addresses) if found.get(a)), None)
    if first is None:
        return None
    grace = min(deadline, time.monotonic() + ORDER_GRACE)
    for a in addresses[:first]:
        tried[a].wait(max(0.0, grace - time.monotonic()))
        if found.get(a):
            break
    return next((a for a in addresses if found.get(a)), None)
