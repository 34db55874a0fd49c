"""HTEX across hosts: ours against upstream Parsl with the pools on 4 other hosts.

    sudo python bench/multihost.py [--rounds R] [--delays 0,1] [--quick]

The hosts are Linux network namespaces made with tests/multihost/netns.py: each has its own
address on one bridge and its own loopback, and host A (this process, the workflow and the
interchange) is the root namespace. Each host runs one block of 2 workers (``--hosts`` of
bench/workloads.py), started by a LocalProvider whose launcher wraps ``ip netns exec``, the
same on both sides. For each link delay (``tc netem`` on every pool host's interface; 0 ms
means no qdisc), the rounds run every workload on both sides, alternating which side goes
first, plus our own single-host ``htex_throughput`` (pools on this host, as in the htex
suite) for the "within 25% of single-host" comparison. Each figure is the best of the rounds.

Needs root (namespaces, links, qdiscs). Everything made is removed at the end, also after an
error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "tests" / "multihost"))

import netns  # noqa: E402  (the test hosts' library, tests/multihost/netns.py)
import run  # noqa: E402  (run_workload, upstream_python, best_of)

#: workload -> (N, N with --quick)
WORKLOADS = {"htex_throughput": (5000, 1000), "htex_roundtrip": (500, 100), "htex_echo_10mb": (5, 2)}
POOL_HOSTS = 4


def set_delay(topo: Any, ms: float) -> str | None:
    """``ms`` of added delay on every pool host's outgoing link; why not, when it cannot be
    done here (a kernel built without sch_netem says "Specified qdisc kind is unknown")."""
    for h in topo.hosts:
        topo.run_in(h, ["tc", "qdisc", "del", "dev", "eth0", "root"])  # none yet is fine
        if ms > 0:
            done = topo.run_in(h, ["tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", f"{ms}ms"])
            if done.returncode != 0:
                return f"tc netem in host {h.name} failed ({done.stderr.strip()}): no netem in this kernel?"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delays", default="0,1", help="link delays in ms, comma-separated (default 0,1)")
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
    delays = [float(d) for d in args.delays.split(",") if d.strip()]
    netns.cleanup_stale()
    topo = netns.create(POOL_HOSTS)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="parsl-bench-multihost-") as tmp:
            hosts_file = os.path.join(tmp, "hosts.json")
            with open(hosts_file, "w") as f:
                json.dump({"address": topo.a.address, "netns": [h.netns for h in topo.hosts]}, f)
            for ms in delays:
                why = set_delay(topo, ms)
                if why:
                    run.log(f"delay {ms:g} ms skipped: {why}")
                    results[f"skipped@{ms:g}ms"] = why
                    continue
                for rnd in range(args.rounds):
                    order = list(sides) if rnd % 2 == 0 else list(sides)[::-1]
                    for name, (n_full, n_quick) in WORKLOADS.items():
                        n = n_quick if args.quick else n_full
                        for side in order:
                            rec = run.run_workload(sides[side], name, n, 600, ["--hosts", hosts_file])
                            key = f"{name}@{ms:g}ms"
                            slot = results.setdefault(key, {"ours": [], "upstream": [], "unit": None})
                            if "error" in rec:
                                run.log(
                                    f"delay {ms:g} ms round {rnd + 1} {name:<16} {side:<8} {rec['error']}"
                                )
                                continue
                            slot[side].append(rec["value"])
                            slot["unit"], slot["better"] = rec["unit"], rec["better"]
                            run.log(
                                f"delay {ms:g} ms round {rnd + 1} {name:<16} {side:<8} "
                                f"{run.fmt_value(rec['value'])} {rec['unit']}"
                            )
                    if ms == 0:  # our single-host figure, in the same rounds
                        n = WORKLOADS["htex_throughput"][1 if args.quick else 0]
                        rec = run.run_workload(sides["ours"], "htex_throughput", n, 600)
                        if "error" not in rec:
                            results.setdefault("single_host", []).append(rec["value"])
                            run.log(
                                f"round {rnd + 1} single-host htex_throughput ours {run.fmt_value(rec['value'])}"
                            )
    finally:
        topo.teardown()
    print(f"\n{POOL_HOSTS} pool hosts x 2 workers, interchange on host A; best of {args.rounds} round(s)")
    print(f"{'workload':<26} {'unit':<8} {'ours':>10} {'upstream':>10} {'speedup':>8}")
    for key, slot in results.items():
        if key.startswith("skipped@"):
            print(f"{key.split('@')[1]:<26} skipped: {slot}")
            continue
        if key == "single_host" or not slot["ours"] or not slot["upstream"]:
            continue
        ours, up = run.best_of(slot["ours"], slot["better"]), run.best_of(slot["upstream"], slot["better"])
        speed = run.speedup_of(ours, up, slot["better"])
        print(f"{key:<26} {slot['unit']:<8} {run.fmt_value(ours):>10} {run.fmt_value(up):>10} {speed:>7.2f}x")
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
