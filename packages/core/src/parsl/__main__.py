"""``python -m parsl``: command-line tools (``plugins`` lists installed plugins, ``doctor``
checks the installation)."""

from __future__ import annotations

import argparse
import json
import sys

from parsl.version import VERSION


def _refuse_if_mixed() -> bool:
    """Print the report and return True when upstream parsl and parslcore are both installed.

    When upstream Parsl was installed over parslcore, ``import parsl`` runs upstream's
    ``__init__`` and only leftovers such as this file are parslcore's: say so before using them.
    """
    from parsl._coexist import find_conflict

    conflict = find_conflict()
    if conflict:
        print(f"error: {conflict}", file=sys.stderr)
    return conflict is not None


def _doctor(args: argparse.Namespace) -> int:
    import os

    if args.reach:  # run on a pool's host: can it reach the interchange?
        return _reach_all([t for arg in args.reach for t in arg.split(",") if t.strip()], args.timeout)

    import parsl
    from parsl._coexist import diagnose, find_conflict

    problems = diagnose()
    print(
        f"parsl {getattr(parsl, '__version__', '?')} imported from {os.path.dirname(parsl.__file__ or '?')}"
    )
    if find_conflict() is None:  # parsl.plugins is parslcore's; with upstream mixed in it may be a leftover
        from importlib.metadata import entry_points

        from parsl.plugins import default_plugin_manager, entry_point_plugins

        loaded = {name for name, _dist, _plugin in entry_point_plugins()}
        for ep in entry_points(group="parsl"):
            if ep.name not in loaded:
                problems.append(
                    f"the plugin entry point {ep.name} = {ep.value} does not load "
                    f"(run `python -m parsl plugins` with logging, or reinstall its package)"
                )
        names = ", ".join(row["name"] for row in default_plugin_manager().describe())
        print(f"plugins: {names}")
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 1
    print("no problems found")
    return 0


def _split_target(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as ``(host, port)``; ValueError naming the fix."""
    host, sep, port = target.strip().rpartition(":")
    host = host.strip().removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"--reach {target!r}: give HOST:PORT, e.g. 10.1.2.3:54321 or [fd00::1]:54321 "
            "(the interchange's address and its worker port)"
        )
    return host, int(port)


def reach(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Whether a TCP connection to ``host:port`` opens within ``timeout`` seconds, and what
    happened, worded for someone choosing an executor's ``address`` or opening a firewall."""
    import errno
    import socket
    import time

    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as e:
        return (
            False,
            f"{host!r} does not resolve here ({e.strerror}): use an IP address or a name this host knows",
        )
    except TimeoutError:
        return False, (
            f"no answer in {timeout:g} s: a firewall between the hosts drops the traffic, or the "
            f"address is not one this host can route to (check with `ip route get {host}`)"
        )
    except ConnectionRefusedError:
        return False, (
            f"refused: {host} answers but nothing listens on port {port} (is the workflow "
            "running, and is this its interchange's worker port?), or a firewall rejects it"
        )
    except OSError as e:
        if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return False, f"{e.strerror}: this host has no route to {host} (check `ip route get {host}`)"
        return False, f"{type(e).__name__}: {e}"
    return True, f"reachable (connected in {(time.monotonic() - start) * 1000:.0f} ms)"


def _reach_all(targets: list[str], timeout: float) -> int:
    failed = 0
    for target in targets:
        try:
            host, port = _split_target(target)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        ok, text = reach(host, port, timeout)
        print(f"{target}: {text}")
        failed += not ok
    if failed:
        print(
            "problem: a worker pool on this host could not connect there; see docs/multihost.md "
            "(running pools on other hosts) for choosing the address and opening ports"
        )
        return 1
    return 0


def _plugins(args: argparse.Namespace) -> int:
    if _refuse_if_mixed():
        return 1
    from parsl.plugins import LIFECYCLE_HOOKS, default_plugin_manager

    rows = default_plugin_manager().describe()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['distribution']})")
        for kind, names in row["provides"].items():
            if names:
                print(f"    {kind}: {', '.join(names)}")
        lifecycle = [h for h in row["hooks"] if h in LIFECYCLE_HOOKS]
        if lifecycle:
            print(f"    hooks: {', '.join(lifecycle)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parsl", description="Parsl command-line tools")
    parser.add_argument("--version", action="version", version=f"parslcore {VERSION}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("plugins", help="list installed plugins and what each provides")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_plugins)
    d = sub.add_parser(
        "doctor",
        help="check the installation: upstream parsl mixed in, sibling versions, plugins that do not load",
    )
    d.add_argument(
        "--reach",
        action="append",
        metavar="HOST:PORT",
        help="instead, check from this host (a worker pool's) that HOST:PORT (the interchange's "
        "address and worker port) accepts TCP connections; repeatable or comma-separated",
    )
    d.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for each --reach connection (default 5)"
    )
    d.set_defaults(func=_doctor)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
