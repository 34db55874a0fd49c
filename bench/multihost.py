"""HTEX across hosts: ours against upstream Parsl with the pools on 4 other hosts.

    sudo python bench/multihost.py [--rounds R] [--delays 0,r0,1] [--loss PCT] [--quick]

The hosts are Linux network namespaces made with tests/multihost/netns.py: each has its own
address on one bridge and its own loopback, and host A (this process, the workflow and the
interchange) is the root namespace. Each host runs one block of 2 workers (``--hosts`` of
bench/workloads.py), started by a LocalProvider whose launcher wraps ``ip netns exec``, the
same on both sides. For each link delay the rounds run every workload on both sides,
alternating which side goes first; at 0 ms (plain veth, nothing in the way) they also run our
own single-host ``htex_throughput`` (pools on this host, as in the htex suite) for the
"within 25% of single-host" comparison. Each figure is the best of the rounds.

A delay above 0 is tests/multihost/slowlink.py's slow link, not ``tc netem`` (this machine's
kernel has no netem): a relay process on host A holds every chunk of the worker connection
that many ms in each direction, and an nftables dnat rule in each pool host sends host A's
worker port (fixed with ``worker_port``, the same for both sides) to it. A TCP echo through
the relay is measured and printed with the results. ``r0`` in ``--delays`` is the relay
holding nothing: what the extra hop itself costs, to read the delayed figures against.
``--loss`` adds nftables packet loss on the relayed links.

Needs root (namespaces, links, nftables). Everything made is removed at the end, also after
an error.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "tests" / "multihost"))

import netns  # noqa: E402  (the test hosts' library, tests/multihost/netns.py)
import run  # noqa: E402  (run_workload, upstream_python, best_of)
import slowlink  # noqa: E402  (the slow link: tests/multihost/slowlink.py)

#: workload -> (N, N with --quick)
WORKLOADS = {"htex_throughput": (5000, 1000), "htex_roundtrip": (500, 100), "htex_echo_10mb": (5, 2)}
POOL_HOSTS = 4


def free_port(address: str) -> int:
    """A TCP port free on ``address`` now, for the worker port the relay forwards."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def run_rounds(
    args: argparse.Namespace, sides: dict[str, str], label: str, hosts_file: str, results: dict
) -> None:
    """``args.rounds`` rounds of every workload on both sides at one link delay."""
    for rnd in range(args.rounds):
        order = list(sides) if rnd % 2 == 0 else list(sides)[::-1]
        for name, (n_full, n_quick) in WORKLOADS.items():
            n = n_quick if args.quick else n_full
            for side in order:
                rec = run.run_workload(sides[side], name, n, 600, ["--hosts", hosts_file])
                key = f"{name}@{label}"
                slot = results.setdefault(key, {"ours": [], "upstream": [], "unit": None})
                if "error" in rec:
                    run.log(f"{label} round {rnd + 1} {name:<16} {side:<8} {rec['error']}")
                    continue
                slot[side].append(rec["value"])
                slot["unit"], slot["better"] = rec["unit"], rec["better"]
                run.log(
                    f"{label} round {rnd + 1} {name:<16} {side:<8} "
                    f"{run.fmt_value(rec['value'])} {rec['unit']}"
                )
        if label == "0ms":  # our single-host figure, in the same rounds
            n = WORKLOADS["htex_throughput"][1 if args.quick else 0]
            rec = run.run_workload(sides["ours"], "htex_throughput", n, 600)
            if "error" not in rec:
                results.setdefault("single_host", []).append(rec["value"])
                run.log(f"round {rnd + 1} single-host htex_throughput ours {run.fmt_value(rec['value'])}")


def slow_link(topo: Any, ms: float, loss: float, hosts: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Start the relay and rules for ``ms`` each way on every pool host; measure a TCP echo."""
    hosts["worker_port"] = free_port(topo.a.address)
    link = slowlink.SlowLink(topo, topo.hosts, hosts["worker_port"], ms, loss).start()
    rtts = link.rtt_ms(topo.hosts[0], 50)
    info = {"echo_p50_ms": statistics.median(rtts), "echo_min_ms": min(rtts)}
    run.log(
        f"delay {ms:g} ms, loss {loss:g}%: TCP echo from host B through the relay "
        f"p50 {info['echo_p50_ms']:.2f} ms, min {info['echo_min_ms']:.2f} ms (50 round trips)"
    )
    return link, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--delays",
        default="0,1",
        help="link delays in ms, comma-separated (default 0,1); r0: through the relay with no delay",
    )
    parser.add_argument(
        "--loss", type=float, default=0.0, help="packet loss in %% on the delayed links (default 0)"
    )
    parser.add_argument("--quick", action="store_true", help="small N: a smoke test")
    parser.add_argument(
        "--upstream-python", help="an interpreter with upstream parsl (default: bench/.venv-upstream)"
    )
    args = parser.parse_args(argv)
    why = netns.unavailable_reason()
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    sides = {"ours": sys.executable, "upstream": run.upstream_python(args.upstream_python)}
    # (label, ms, through the relay): "0" is the plain link, "r0" the relay holding nothing
    delays = [
        (
            "relay0ms" if d.strip().startswith("r") else f"{float(d):g}ms",
            float(d.strip().lstrip("r")),
            d.strip()[0] == "r",
        )
        for d in args.delays.split(",")
        if d.strip()
    ]
    netns.cleanup_stale()
    topo = netns.create(POOL_HOSTS)
    results: dict[str, Any] = {}
    links: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="parsl-bench-multihost-") as tmp:
            for label, ms, relayed in delays:
                hosts: dict[str, Any] = {"address": topo.a.address, "netns": [h.netns for h in topo.hosts]}
                link = None
                if relayed or ms > 0:
                    link, links[label] = slow_link(topo, ms, args.loss, hosts)
                hosts_file = os.path.join(tmp, f"hosts-{label}.json")
                with open(hosts_file, "w") as f:
                    json.dump(hosts, f)
                try:
                    run_rounds(args, sides, label, hosts_file, results)
                finally:
                    if link is not None:
                        links[label]["dropped"] = sum(
                            n["to_a"] + n["from_a"] for n in link.counters().values()
                        )
                        relayed = link.stop().get(f"{topo.a.address}:{hosts['worker_port']}", {})
                        holds = [relayed.get(w, {}).get("min_hold_ms") for w in ("to_target", "from_target")]
                        links[label]["min_hold_ms"] = min((h for h in holds if h is not None), default=None)
    finally:
        topo.teardown()
    print(f"\n{POOL_HOSTS} pool hosts x 2 workers, interchange on host A; best of {args.rounds} round(s)")
    print(f"{'workload':<26} {'unit':<8} {'ours':>10} {'upstream':>10} {'speedup':>8}")
    for key, slot in results.items():
        if key == "single_host" or not slot["ours"] or not slot["upstream"]:
            continue
        ours, up = run.best_of(slot["ours"], slot["better"]), run.best_of(slot["upstream"], slot["better"])
        speed = run.speedup_of(ours, up, slot["better"])
        print(f"{key:<26} {slot['unit']:<8} {run.fmt_value(ours):>10} {run.fmt_value(up):>10} {speed:>7.2f}x")
    for label, info in links.items():
        hold = info.get("min_hold_ms")
        print(
            f"link {label} (relay, {args.loss:g}% loss): TCP echo p50 {info['echo_p50_ms']:.2f} ms, "
            f"min {info['echo_min_ms']:.2f} ms; shortest hold of HTEX's traffic "
            f"{'-' if hold is None else f'{hold:.2f}'} ms; packets dropped {info.get('dropped', '-')}"
        )
    single = results.get("single_host")
    multi = results.get("htex_throughput@0ms", {}).get("ours")
    if single and multi:
        print(
            f"ours, 4 hosts at 0 ms / ours, single host: {max(multi):,.0f} / {max(single):,.0f} = "
            f"{max(multi) / max(single):.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
