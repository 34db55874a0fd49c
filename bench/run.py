"""Benchmark harness: our parsl versus upstream parsl, on the same workload files.

    python bench/run.py [--suite threads|htex|monitoring|floor|all] [--quick]
                        [--only NAME[,NAME...]] [--rounds R] [--no-floor]
                        [--htex-encryption default|on|off]
                        [--ours-python PATH] [--upstream-python PATH] [--floor-python PATH]

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

The floor (``bench/floor.py``: the same kinds of work through bare pyzmq/cloudpickle
pipelines, no Parsl) runs in the same rounds, right after the workloads it is the floor
of, with ``--floor-python`` (default: ours); ``--suite floor`` runs it alone and
``--no-floor`` leaves it out. The table's ``ours/floor`` column shows our best against the
floor's best: a percentage for rates (100% = as fast as the floor), a multiple for times.
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
FLOOR_PY = BENCH_DIR / "floor.py"
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

# The floor (bench/floor.py): name -> (full N, --quick N, the workloads it runs beside).
# A floor workload runs in a round right after the first of its workloads that is selected.
FLOOR_SIZES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "floor_threadpool": (20000, 2000, ("noop_throughput", "monitored_throughput")),
    "floor_throughput": (20000, 2000, ("htex_throughput", "htex_monitored_throughput", "htex_fanout")),
    "floor_roundtrip": (2000, 200, ("htex_roundtrip", "htex_chain")),
    "floor_pingpong": (5000, 500, ("htex_roundtrip",)),
    "floor_echo_10mb_1hop": (5, 2, ("htex_echo_10mb",)),
    "floor_echo_10mb": (5, 2, ("htex_echo_10mb",)),
}
SUITES["floor"] = list(FLOOR_SIZES)
# Workload -> the floor workload its ``ours/floor`` column compares it with.
FLOOR_OF: dict[str, str] = {
    "noop_throughput": "floor_threadpool",
    "htex_throughput": "floor_throughput",
    "htex_roundtrip": "floor_roundtrip",
    "htex_echo_10mb": "floor_echo_10mb",
}

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


# Everything an interpreter imports from: its site-packages and the source directories of
# editable installs (ours), compiled in parallel; a directory already compiled costs a stat per file.
_COMPILE = """
import compileall, os, sys
for d in sorted({p for p in sys.path if os.path.isdir(p) and not p.startswith(sys.base_prefix)}):
    compileall.compile_dir(d, quiet=1, workers=0)
"""


def compile_bytecode(python: str) -> None:
    """Write the .pyc files of every module ``python`` may import, before anything is timed.

    pip compiles what it installs (upstream's venv has bytecode); uv, which hatch uses, does
    not, and with PYTHONDONTWRITEBYTECODE=1 (set on these machines) nothing is written later:
    every process of a run compiled its imports from source again, so start-up and every
    helper process (the interchange, pools, workers, monitoring's writer) paid for it on one
    side only. Both sides are compiled here, the same way.
    """
    try:
        proc = subprocess.run(
            [python, "-c", _COMPILE], capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"warning: could not compile bytecode for {python}: {e}")
        return
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        log(f"warning: compiling bytecode for {python} failed: {tail}")


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
    python: str,
    name: str,
    n: int,
    timeout: float,
    extra_args: Sequence[str] = (),
    script: Path = WORKLOADS_PY,
) -> dict[str, Any]:
    """Run one workload in a fresh process and directory; return its record or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix=f"parsl-bench-{name}-") as workdir:
        try:
            env = side_env(python)
            proc = subprocess.run(
                [python, str(script), name, "--n", str(n), *extra_args],
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


def floor_ratio(ours: float | None, floor: float | None) -> float | None:
    """Ours against the floor: ours/floor (a fraction for rates, a multiple for times)."""
    if ours is None or floor is None or ours <= 0 or floor <= 0:
        return None
    return ours / floor


def fmt_floor_ratio(ratio: float | None, better: str) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.0%}" if better == "higher" else f"{ratio:.2f}x"


def unit_label(res: dict[str, Any]) -> str:
    unit = res.get("unit") or "?"
    return res["metric"].replace("_", " ") if res.get("metric") in ("p50_ms", "median_ms") else unit


def print_table(results: dict[str, dict[str, Any]]) -> None:
    header = f"{'workload':<22} {'unit':<10} {'ours':>10} {'upstream':>10} {'speedup':>8} {'ours/floor':>10}  target"
    print(header)
    print("-" * len(header))

    def row(
        label: str,
        unit: str,
        ours: float | None,
        upstream: float | None,
        speedup: float | None,
        target: str,
        vs_floor: str = "-",
    ) -> None:
        print(
            f"{label:<22} {unit:<10} {fmt_value(ours):>10} {fmt_value(upstream):>10}"
            f" {'-' if speedup is None else f'{speedup:.2f}x':>8} {vs_floor:>10}  {target}"
        )

    for name, res in results.items():
        unit = res.get("unit") or "?"
        row(
            name,
            unit_label(res),
            res["ours"]["best"],
            res["upstream"]["best"],
            res["speedup"],
            verdict(res["target"], res["ours"]["best"], res["speedup"], unit),
            fmt_floor_ratio(res.get("ours_over_floor"), res.get("better", "higher")),
        )
        for field, extra in res.get("extra", {}).items():
            row(f"  {field}", extra["unit"], extra["ours"], extra["upstream"], extra["speedup"], "")
    for name, res in results.items():
        for side in SIDES:
            if res[side]["error"]:
                print(f"  {name} ({side}) failed: {res[side]['error']}")


def print_floor_table(floor: dict[str, dict[str, Any]], results: dict[str, dict[str, Any]]) -> None:
    """The floor's best figures, and the workloads they are the floor of."""
    header = f"{'floor (no parsl)':<22} {'unit':<10} {'best':>10}  {'samples':<24} floor of"
    print(header)
    print("-" * len(header))
    for name, res in floor.items():
        of = [w for w, f in FLOOR_OF.items() if f == name and w in results]
        samples = ", ".join(fmt_value(v) for v in res["samples"])
        print(f"{name:<22} {unit_label(res):<10} {fmt_value(res['best']):>10}  {samples:<24} {', '.join(of)}")
    for name, res in floor.items():
        if res["error"]:
            print(f"  {name} failed: {res['error']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare our parsl against upstream parsl.")
    parser.add_argument("--quick", action="store_true", help="small N and 2 rounds: a smoke test")
    parser.add_argument(
        "--suite",
        choices=sorted(SUITES),
        default="all",
        help="workload group: threads (default Config()), htex, monitoring, floor (the floor "
        "alone, see bench/floor.py), or all (default)",
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
    parser.add_argument(
        "--floor-python", help="interpreter with pyzmq and cloudpickle for bench/floor.py (default: ours)"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="do not run the floor beside the selected workloads"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per run")
    args = parser.parse_args(argv)
    args.only = [name for item in args.only for name in item.split(",") if name]
    unknown = sorted(set(args.only) - set(SIZES) - set(FLOOR_SIZES))
    if unknown:
        parser.error(
            f"unknown workload(s): {', '.join(unknown)}; choose from {', '.join([*SIZES, *FLOOR_SIZES])}"
        )
    if args.rounds is None:
        args.rounds = 2 if args.quick else 3
    if args.rounds < 1:
        parser.error("--rounds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    selected = args.only or SUITES[args.suite]
    names = [name for name in SIZES if name in selected]
    # floor workloads: those selected by name (or --suite floor), then the floor of each workload
    floor_names = [f for f in FLOOR_SIZES if f in selected]
    if not args.no_floor:
        floor_names += [
            f for f, (*_, beside) in FLOOR_SIZES.items() if f not in floor_names and set(beside) & set(names)
        ]
    # each floor workload runs right after the first selected workload it is the floor of (or last)
    floor_after: dict[str | None, list[str]] = {}
    for f in floor_names:
        anchor = next((w for w in names if w in FLOOR_SIZES[f][2]), None)
        floor_after.setdefault(anchor, []).append(f)
    htex_args = ["--encryption", args.htex_encryption] if args.htex_encryption != "default" else []
    pythons = {"ours": args.ours_python}
    pythons["upstream"] = upstream_python(args.upstream_python) if names else ""
    floor_python = args.floor_python or args.ours_python
    versions = {side: parsl_version(python) if python else None for side, python in pythons.items()}
    for side in SIDES if names else ():
        log(f"{side:>8}: {pythons[side]} (parsl {versions[side] or 'NOT IMPORTABLE'})")
    if floor_names:
        log(f"   floor: {floor_python}")
    for python in sorted({p for p in (*pythons.values(), floor_python if floor_names else "") if p}):
        compile_bytecode(python)

    sizes = {name: SIZES[name][1 if args.quick else 0] for name in names}
    floor_sizes = {f: FLOOR_SIZES[f][1 if args.quick else 0] for f in floor_names}
    floor_samples: dict[str, list[dict[str, Any]]] = {f: [] for f in floor_names}
    floor_errors: dict[str, str | None] = {f: None for f in floor_names}

    def run_floor(rnd: int, anchor: str | None) -> None:
        for f in floor_after.get(anchor, []):
            if floor_errors[f]:
                continue
            record = run_workload(floor_python, f, floor_sizes[f], args.timeout, script=FLOOR_PY)
            if "error" in record:
                floor_errors[f] = record["error"]
                status = f"ERROR {record['error']}"
            else:
                floor_samples[f].append(record)
                status = f"{fmt_value(record['value']):>12} {record.get('unit', '')}"
            log(f"round {rnd + 1}/{args.rounds}  {f:<16} {'floor':<8} {status}")

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
            run_floor(rnd, name)
        run_floor(rnd, None)

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

    floor: dict[str, dict[str, Any]] = {}
    for f in floor_names:
        runs = floor_samples[f]
        first = runs[0] if runs else {}
        better = first.get("better", "higher")
        values = [r["value"] for r in runs]
        ok = bool(values) and floor_errors[f] is None
        floor[f] = {
            "n": floor_sizes[f],
            "metric": first.get("metric"),
            "unit": first.get("unit"),
            "better": better,
            "best": best_of(values, better) if ok else None,
            "samples": values,
            "runs": runs,
            "error": floor_errors[f],
        }
    for name, entry in results.items():
        ref = floor.get(FLOOR_OF.get(name, ""))
        if ref is not None:
            entry["floor"] = FLOOR_OF[name]
            entry["ours_over_floor"] = floor_ratio(entry["ours"]["best"], ref["best"])
            entry["upstream_over_floor"] = floor_ratio(entry["upstream"]["best"], ref["best"])

    print()
    if results:
        print_table(results)
    if floor:
        if results:
            print()
        print_floor_table(floor, results)
    elapsed = time.perf_counter() - started
    if results:
        print(
            f"\n{args.rounds} round(s) in {elapsed:.0f}s; speedup = how many times better ours is "
            "(ours/upstream for rates, upstream/ours for times; >1: ours better)"
        )
    else:
        print(f"\n{args.rounds} round(s) in {elapsed:.0f}s")
    if floor and results:
        print(
            "ours/floor = our best over the floor's best from bench/floor.py in the same rounds "
            "(rates: share of the floor's rate, higher is better; times: multiple of the floor's time)"
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
        "floor": floor,
        "floor_python": floor_python if floor else None,
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {RESULTS_FILE}")
    failed = any(e for per_side in errors.values() for e in per_side.values()) or any(floor_errors.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
