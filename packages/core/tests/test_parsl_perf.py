"""The parsl-perf console script: Parsl's options, real runs against a threads config."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(tmp_path, *args):
    cfg = tmp_path / "cfg.py"
    cfg.write_text(
        f"from parsl.config import Config\nconfig = Config(run_dir={str(tmp_path / 'runinfo')!r})\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "parsl.benchmark.perf", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_reports_submission_and_end_to_end_rates(tmp_path):
    proc = _run(tmp_path, "--time", "0.2", "--argsize", "1000", "--iterate", "exponential")
    assert proc.returncode == 0, proc.stderr
    assert "submission" in proc.stdout and "end to end" in proc.stdout
    rate = float(proc.stdout.strip().splitlines()[-1].split(":")[1])
    assert rate > 0


def test_resources_must_be_json(tmp_path):
    proc = _run(tmp_path, "--time", "0.1", "--resources", "not-json")
    assert proc.returncode == 2 and "--resources must be JSON" in proc.stderr


@pytest.mark.parametrize("bad", ["", "x = 1\n"])
def test_config_file_without_config_is_a_clear_error(tmp_path, bad):
    cfg = tmp_path / "bad.py"
    cfg.write_text(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "parsl.benchmark.perf", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "defines no `config`" in proc.stderr
