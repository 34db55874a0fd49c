"""bench/floor.py: each bare pipeline runs, checks its results and reports a sane figure;
bench/run.py's floor tables name only workloads that exist."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _run_floor(name: str, n: int, tmp_path: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "floor.py"), name, "--n", str(n), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "n", "metric"),
    [
        ("floor_throughput", 300, "tasks_per_s"),
        ("floor_roundtrip", 30, "p50_ms"),
        ("floor_pingpong", 30, "p50_ms"),
        ("floor_echo_10mb_1hop", 1, "median_ms"),
        ("floor_echo_10mb", 1, "median_ms"),
    ],
)
def test_floor_pipeline_reports_a_positive_figure(name: str, n: int, metric: str, tmp_path: Path) -> None:
    record = _run_floor(name, n, tmp_path)
    assert record["workload"] == name
    assert record["metric"] == metric
    assert record["tasks"] == n
    assert record["value"] > 0 and record["seconds"] > 0
    if metric == "tasks_per_s":
        assert record["value"] == pytest.approx(n / record["seconds"])
    else:
        assert record["p95_ms" if metric == "p50_ms" else "min_ms"] <= record["value"] * 100
    if name == "floor_echo_10mb":
        assert record["hops"] == 3


@pytest.mark.slow
def test_floor_throughput_prefetch_option(tmp_path: Path) -> None:
    record = _run_floor("floor_throughput", 200, tmp_path, "--prefetch", "5")
    assert record["prefetch"] == 5 and record["tasks"] == 200 and record["value"] > 0


def test_floor_rejects_a_zero_prefetch(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "floor.py"), "floor_throughput", "--n", "10", "--prefetch", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "--prefetch must be positive" in proc.stderr


def test_floor_threadpool_in_process() -> None:
    floor = _load("floor")
    record = floor.floor_threadpool(500)
    assert record["tasks"] == 500 and record["value"] > 0 and record["better"] == "higher"


def test_floor_check_raises_on_a_wrong_result() -> None:
    floor = _load("floor")
    with pytest.raises(floor.WrongResult):
        floor._check(False, "wrong")


def test_run_py_floor_tables_name_real_workloads() -> None:
    run = _load("run")
    floor = _load("floor")
    assert set(run.FLOOR_SIZES) == set(floor.FLOOR_WORKLOADS)
    assert set(run.FLOOR_OF) <= set(run.SIZES)
    assert set(run.FLOOR_OF.values()) <= set(run.FLOOR_SIZES)
    for _full, _quick, beside in run.FLOOR_SIZES.values():
        assert set(beside) <= set(run.SIZES)
    assert run.floor_ratio(50.0, 100.0) == 0.5
    assert run.fmt_floor_ratio(0.5, "higher") == "50%"
    assert run.fmt_floor_ratio(1.7, "lower") == "1.70x"
    assert run.fmt_floor_ratio(None, "lower") == "-"


def test_compile_bytecode_writes_pyc_files_even_when_python_is_told_not_to(tmp_path, monkeypatch):
    run = _load("run")
    (tmp_path / "some_module.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as on these machines
    run.compile_bytecode(sys.executable)
    tag = sys.implementation.cache_tag
    assert (tmp_path / "__pycache__" / f"some_module.{tag}.pyc").exists()
