"""Benchmark harness: our parsl versus upstream parsl, on the same workload files.

    python bench/run.py [--quick] [--only NAME[,NAME...]] [--rounds R]
                        [--ours-python PATH] [--upstream-python PATH]

Every measurement is a fresh ``python bench/workloads.py NAME --n N`` subprocess
in a fresh temporary working directory (so ``runinfo/`` lands there).  The two
sides are interleaved: in each round, for each workload, one side runs and then
the other, with the order alternating between rounds to cancel drift.  The best
(highest tasks/s) sample per side is reported, with speedup = ours / upstream.

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
}
# Minimum speedup (ours / upstream) we aim for.
TARGETS: dict[str, float] = {"noop_throughput": 7.0, "chain": 3.0, "fanout": 3.0, "bash": 2.5}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parsl_version(python: str) -> str | None:
    """The parsl version importable by `python`, or None if it cannot import parsl."""
    try:
        proc = subprocess.run(
            [python, "-c", "import parsl; print(parsl.__version__)"],
            capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=120,
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
        [str(python), "-m", "pip", "install", "--quiet", f"parsl=={UPSTREAM_VERSION}"], check=True
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
            if isinstance(record, dict) and "tasks_per_s" in record:
                return record
    return None


def run_workload(python: str, name: str, n: int, timeout: float) -> dict[str, Any]:
    """Run one workload in a fresh process and directory; return its record or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix=f"parsl-bench-{name}-") as workdir:
        try:
            # Each side sees only its own interpreter's packages: no PYTHONPATH leaks across.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            proc = subprocess.run(
                [python, str(WORKLOADS_PY), name, "--n", str(n)],
                cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env,
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


def fmt_rate(value: float | None) -> str:
    return "FAILED" if value is None else f"{value:,.0f}"


def print_table(results: dict[str, dict[str, Any]]) -> None:
    header = f"{'workload':<16} {'ours (tasks/s)':>15} {'upstream (tasks/s)':>19} {'speedup':>8}  target"
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        speedup = res["speedup"]
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = speedup is not None and speedup >= target
            verdict = f">= {target:g}x {'ok' if met else 'MISSED'}"
        print(
            f"{name:<16} {fmt_rate(res['ours']['best']):>15} {fmt_rate(res['upstream']['best']):>19}"
            f" {'-' if speedup is None else f'{speedup:.2f}x':>8}  {verdict}"
        )
    for name, res in results.items():
        for side in SIDES:
            if res[side]["error"]:
                print(f"  {name} ({side}) failed: {res[side]['error']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare our parsl against upstream parsl.")
    parser.add_argument("--quick", action="store_true", help="small N and 2 rounds: a smoke test")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only these workloads (repeatable or comma-separated)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, or 2 with --quick)")
    parser.add_argument("--ours-python", default=sys.executable,
                        help="interpreter with our parsl (default: this one)")
    parser.add_argument("--upstream-python", default=os.environ.get("PARSL_BENCH_UPSTREAM_PYTHON"),
                        help="interpreter with upstream parsl (default: $PARSL_BENCH_UPSTREAM_PYTHON, "
                        "else bench/.venv-upstream, created on demand)")
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
    names = [name for name in SIZES if not args.only or name in args.only]
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
                record = run_workload(pythons[side], name, sizes[name], args.timeout)
                if "error" in record:
                    errors[name][side] = record["error"]
                    status = f"ERROR {record['error']}"
                else:
                    samples[name][side].append(record)
                    status = f"{record['tasks_per_s']:>12,.0f} tasks/s"
                log(f"round {rnd + 1}/{args.rounds}  {name:<16} {side:<8} {status}")

    results: dict[str, dict[str, Any]] = {}
    for name in names:
        entry: dict[str, Any] = {"n": sizes[name], "target": TARGETS.get(name)}
        for side in SIDES:
            rates = [s["tasks_per_s"] for s in samples[name][side]]
            ok = bool(rates) and errors[name][side] is None
            entry[side] = {
                "best": max(rates) if ok else None,
                "best_seconds": min(s["seconds"] for s in samples[name][side]) if ok else None,
                "samples": rates,
                "error": errors[name][side],
            }
        ours, upstream = entry["ours"]["best"], entry["upstream"]["best"]
        entry["speedup"] = ours / upstream if ours is not None and upstream is not None else None
        results[name] = entry

    print()
    print_table(results)
    elapsed = time.perf_counter() - started
    print(f"\n{args.rounds} round(s) in {elapsed:.0f}s; speedup = ours / upstream (>1: ours faster)")

    report = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "rounds": args.rounds,
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
