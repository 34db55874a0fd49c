"""Long workflows: memory stays bounded and throughput does not collapse as tasks pile up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "load_million.py"


@pytest.mark.slow
def test_200k_noop_tasks_bounded_memory_and_steady_throughput(tmp_path):
    env = dict(os.environ, LOAD_RUN_DIR=str(tmp_path / "runinfo"))
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "200000", "--step", "40000", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout.strip().splitlines()[-1])["rows"]
    assert [r["tasks"] for r in rows] == [40_000, 80_000, 120_000, 160_000, 200_000]
    # memory: after warm-up, 160k more tasks may not add more than a few MB (a leak of even
    # 200 bytes per task would add 32 MB)
    growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"]
    assert growth < 20, rows
    # throughput: the later steps are not much slower than the best one (upstream slowed
    # down markedly after 100k tasks); generous, as CI machines are noisy
    best = max(r["rate"] for r in rows)
    assert min(r["rate"] for r in rows[1:]) > best / 4, rows
