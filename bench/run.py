"""Benchmark harness: our parsl versus upstream parsl, on the same workload files.

    python bench/run.py [--suite threads|htex|all] [--quick] [--only NAME[,NAME...]]
                        [--rounds R] [--htex-encryption default|on|off]
                        [--ours-python PATH] [--upstream-python PATH]

Every measurement is a fresh ``python bench/workloads.py NAME --n N`` subprocess
in a fresh temporary working directory (so ``runinfo/`` lands there).  The two
sides are interleaved: in each round, for each workload, one side runs and then
the other, with the order alternating between rounds to cancel drift.  The best
sample per side is reported (highest for tasks/s, lowest for latencies and
durations), with speedup = how many times better ours is (>1: ours better).

The upstream interpreter is, in order of preference: ``--upstream-python``, the
``PARSL_BENCH_UPSTREAM_PYTHON`` environment variable, or ``bench/.venv-upstream``
(created, or repaired, with ``pip install parsl==UPSTREAM_VERSION`` as needed).
Results are written to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

UPSTREAM_VERSION = "2026.10.26"
BENCH_DIR = Path(__file__).resolve().parent
WORKLOADS_PY = BENCH_DIR / "workloads.py"
UPSTREAM_VENV = BENCH_DIR / ".venv-upstream"
RESULTS_FILE = BENCH_DIR / "results" / "latest.json"
SIDES = ("ours", "upstream")

# Workload name -> (full N, --quick N).  Names must match bench/workloads.py.
SIZES: dict[str, tuple[int, int]] = {
    "noop_throughput": (20000, 2000),
    "roundtrip": (2000, 200),
    "chain": (1000, 200),
    "fanout": (5000, 500),
    "bash": (500, 50),
    "htex_throughput": (5000, 1000),
    "htex_roundtrip": (1000, 200),
    "htex_startup": (1, 1),
    "htex_chain": (1000, 200),
    "htex_fanout": (5000, 500),
    "htex_echo_10mb": (5, 2),  # N = timed echoes per run
    # the same throughput workloads with Config(monitoring=MonitoringHub()) on both sides
    "monitored_throughput": (20000, 2000),
    "htex_monitored_throughput": (5000, 1000),
}
SUITES: dict[str, list[str]] = {
    "threads": [name for name in SIZES if not name.startswith("htex_") and "monitored" not in name],
    "htex": [name for name in SIZES if name.startswith("htex_") and "monitored" not in name],
    # monitoring overhead: each throughput workload with and without a MonitoringHub
    "monitoring": ["noop_throughput", "monitored_throughput", "htex_throughput", "htex_monitored_throughput"],
}
SUITES["all"] = SUITES["threads"] + SUITES["htex"] + ["monitored_throughput", "htex_monitored_throughput"]

# Targets: ("speedup", x) = ours must be >= x times better than upstream;
# ("max", v) = our value (in the workload's unit) must be <= v.
TARGETS: dict[str, tuple[str, float]] = {
    "noop_throughput": ("speedup", 7.0),
    "chain": ("speedup", 3.0),
    "fanout": ("speedup", 3.0),
    "bash": ("speedup", 2.5),
    "htex_throughput": ("speedup", 5.0),
    "htex_roundtrip": ("max", 0.5),
    "htex_startup": ("max", 1.0),
    "htex_chain": ("max", 0.5),
    "htex_fanout": ("speedup", 5.0),
    "htex_echo_10mb": ("max", 60.0),
}
# Secondary figures shown as extra table rows: workload -> [(record field, unit, better)].
EXTRA_ROWS: dict[str, list[tuple[str, str, str]]] = {
    "htex_roundtrip": [("p95_ms", "p95 ms", "lower")],
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parsl_version(python: str) -> str | None:
    """The parsl version importable by `python`, or None if it cannot import parsl."""
    try:
        proc = subprocess.run(
            [python, "-c", "import parsl; print(parsl.__version__)"],
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def upstream_python(explicit: str | None) -> str:
    """Return an interpreter with upstream parsl, creating bench/.venv-upstream if needed."""
    if explicit:
        version = parsl_version(explicit)
        if version != UPSTREAM_VERSION:
            log(f"warning: {explicit} has parsl {version}, expected {UPSTREAM_VERSION}")
        return explicit

    python = UPSTREAM_VENV / "bin" / "python"
    if parsl_version(str(python)) == UPSTREAM_VERSION:
        return str(python)
    if not python.exists():
        log(f"creating {UPSTREAM_VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(UPSTREAM_VENV)], check=True)
    log(f"installing parsl=={UPSTREAM_VERSION} into {UPSTREAM_VENV}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"parsl[monitoring]=={UPSTREAM_VERSION}"], check=True
    )
    version = parsl_version(str(python))
    if version != UPSTREAM_VERSION:
        raise SystemExit(f"{python} has parsl {version} after install, expected {UPSTREAM_VERSION}")
    return str(python)


def last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "value" in record:
                return record
    return None


def side_env(python: str) -> dict[str, str]:
    """The environment of one side's runs: as if its venv were activated.

    No PYTHONPATH leaks across, and the interpreter's bin/ directory comes first on
    PATH: upstream's worker pools are launched as ``process_worker_pool.py`` from PATH.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    bindir = os.path.dirname(os.path.abspath(python))  # not resolved: keep the venv's bin/
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_workload(
    python: str, name: str, n: int, timeout: float, extra_args: Sequence[str] = ()
) -> dict[str, Any]:
    """Run one workload in a fresh process and directory; return its record or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix=f"parsl-bench-{name}-") as workdir:
        try:
            env = side_env(python)
            proc = subprocess.run(
                [python, str(WORKLOADS_PY), name, "--n", str(n), *extra_args],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f}s"}
        except OSError as e:
            return {"error": str(e)}
    record = last_json_line(proc.stdout)
    if proc.returncode != 0 or record is None:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    return record


def fmt_value(value: float | None) -> str:
    if value is None:
        return "FAILED"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"


def best_of(values: list[float], better: str) -> float:
    return max(values) if better == "higher" else min(values)


def speedup_of(ours: float | None, upstream: float | None, better: str) -> float | None:
    """How many times better ours is: ours/upstream for rates, upstream/ours for durations."""
    if ours is None or upstream is None or ours <= 0 or upstream <= 0:
        return None
    return ours / upstream if better == "higher" else upstream / ours


def verdict(target: tuple[str, float] | None, ours: float | None, speedup: float | None, unit: str) -> str:
    if target is None:
        return ""
    kind, bound = target
    if kind == "speedup":
        return f">= {bound:g}x {'ok' if speedup is not None and speedup >= bound else 'MISSED'}"
    return f"<= {bound:g} {unit} {'ok' if ours is not None and ours <= bound else 'MISSED'}"


def print_table(results: dict[str, dict[str, Any]]) -> None:
    header = f"{'workload':<22} {'unit':<10} {'ours':>10} {'upstream':>10} {'speedup':>8}  target"
    print(header)
    print("-" * len(header))

    def row(
        label: str, unit: str, ours: float | None, upstream: float | None, speedup: float | None, target: str
    ) -> None:
        print(
            f"{label:<22} {unit:<10} {fmt_value(ours):>10} {fmt_value(upstream):>10}"
            f" {'-' if speedup is None else f'{speedup:.2f}x':>8}  {target}"
        )

    for name, res in results.items():
        unit = res.get("unit") or "?"
        label = res["metric"].replace("_", " ") if res.get("metric") in ("p50_ms", "median_ms") else unit
        row(
            name,
            label,
            res["ours"]["best"],
            res["upstream"]["best"],
            res["speedup"],
            verdict(res["target"], res["ours"]["best"], res["speedup"], unit),
        )
        for field, extra in res.get("extra", {}).items():
            row(f"  {field}", extra["unit"], extra["ours"], extra["upstream"], extra["speedup"], "")
    for name, res in results.items():
        for side in SIDES:
            if res[side]["error"]:
                print(f"  {name} ({side}) failed: {res[side]['error']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare our parsl against upstream parsl.")
    parser.add_argument("--quick", action="store_true", help="small N and 2 rounds: a smoke test")
    parser.add_argument(
        "--suite",
        choices=sorted(SUITES),
        default="all",
        help="workload group: threads (default Config()), htex, or all (default)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these workloads (repeatable or comma-separated; overrides --suite)",
    )
    parser.add_argument(
        "--htex-encryption",
        choices=("default", "on", "off"),
        default="default",
        help="htex workloads: each side's default `encrypted`, or force it on/off on both sides",
    )
    parser.add_argument(
        "--htex-encrypted",
        dest="htex_encryption",
        action="store_const",
        const="on",
        help="same as --htex-encryption on",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, or 2 with --quick)")
    parser.add_argument(
        "--ours-python", default=sys.executable, help="interpreter with our parsl (default: this one)"
    )
    parser.add_argument(
        "--upstream-python",
        default=os.environ.get("PARSL_BENCH_UPSTREAM_PYTHON"),
        help="interpreter with upstream parsl (default: $PARSL_BENCH_UPSTREAM_PYTHON, "
        "else bench/.venv-upstream, created on demand)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per run")
    args = parser.parse_args(argv)
    args.only = [name for item in args.only for name in item.split(",") if name]
    unknown = sorted(set(args.only) - set(SIZES))
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    if args.rounds is None:
        args.rounds = 2 if args.quick else 3
    if args.rounds < 1:
        parser.error("--rounds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [name for name in SIZES if name in args.only] if args.only else SUITES[args.suite]
    htex_args = ["--encryption", args.htex_encryption] if args.htex_encryption != "default" else []
    pythons = {"ours": args.ours_python, "upstream": upstream_python(args.upstream_python)}
    versions = {side: parsl_version(python) for side, python in pythons.items()}
    for side in SIDES:
        log(f"{side:>8}: {pythons[side]} (parsl {versions[side] or 'NOT IMPORTABLE'})")

    sizes = {name: SIZES[name][1 if args.quick else 0] for name in names}
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {n: {s: [] for s in SIDES} for n in names}
    errors: dict[str, dict[str, str | None]] = {n: {s: None for s in SIDES} for n in names}
    load_before = os.getloadavg()
    if load_before[0] > 1.0:
        log(f"warning: 1-minute load average is {load_before[0]:.2f}; other processes will add noise")
    started = time.perf_counter()
    for rnd in range(args.rounds):
        order = SIDES if rnd % 2 == 0 else SIDES[::-1]
        for name in names:
            for side in order:
                if errors[name][side]:
                    continue  # a side that failed once is not retried
                extra_args = htex_args if name.startswith("htex_") else []
                record = run_workload(pythons[side], name, sizes[name], args.timeout, extra_args)
                if "error" in record:
                    errors[name][side] = record["error"]
                    status = f"ERROR {record['error']}"
                else:
                    samples[name][side].append(record)
                    status = f"{fmt_value(record['value']):>12} {record.get('unit', '')}"
                log(f"round {rnd + 1}/{args.rounds}  {name:<16} {side:<8} {status}")

    results: dict[str, dict[str, Any]] = {}
    for name in names:
        runs = samples[name]["ours"] + samples[name]["upstream"]
        first = runs[0] if runs else {}
        better = first.get("better", "higher")
        entry: dict[str, Any] = {
            "n": sizes[name],
            "target": TARGETS.get(name),
            "metric": first.get("metric"),
            "unit": first.get("unit"),
            "better": better,
        }
        for side in SIDES:
            values = [s["value"] for s in samples[name][side]]
            ok = bool(values) and errors[name][side] is None
            entry[side] = {
                "best": best_of(values, better) if ok else None,
                "best_seconds": min(s["seconds"] for s in samples[name][side]) if ok else None,
                "samples": values,
                "runs": samples[name][side],
                "error": errors[name][side],
            }
        entry["speedup"] = speedup_of(entry["ours"]["best"], entry["upstream"]["best"], better)
        entry["extra"] = {}
        for field, unit, extra_better in EXTRA_ROWS.get(name, []):
            best = {}
            for side in SIDES:
                values = [s[field] for s in samples[name][side] if field in s]
                best[side] = (
                    best_of(values, extra_better) if values and entry[side]["best"] is not None else None
                )
            entry["extra"][field] = {
                "unit": unit,
                "better": extra_better,
                **best,
                "speedup": speedup_of(best["ours"], best["upstream"], extra_better),
            }
        results[name] = entry

    print()
    print_table(results)
    elapsed = time.perf_counter() - started
    print(
        f"\n{args.rounds} round(s) in {elapsed:.0f}s; speedup = how many times better ours is "
        "(ours/upstream for rates, upstream/ours for times; >1: ours better)"
    )
    if any(n.startswith("htex_") for n in names):
        enc = {
            side: sorted(
                {str(r.get("encrypted")) for n in names if n.startswith("htex_") for r in samples[n][side]}
            )
            for side in SIDES
        }
        print(
            f"htex encryption ({args.htex_encryption}): ours {'/'.join(enc['ours']) or '?'}, "
            f"upstream {'/'.join(enc['upstream']) or '?'}"
        )

    report = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "rounds": args.rounds,
        "suite": "only" if args.only else args.suite,
        "htex_encryption": args.htex_encryption,
        "elapsed_s": elapsed,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "sides": {s: {"python": pythons[s], "parsl_version": versions[s]} for s in SIDES},
        "upstream_expected_version": UPSTREAM_VERSION,
        "workloads": results,
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {RESULTS_FILE}")
    return 1 if any(e for per_side in errors.values() for e in per_side.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
