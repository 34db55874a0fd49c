"""A long HTEX workflow keeps bounded memory in the workflow process and the interchange."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "load_htex.py"


@pytest.mark.slow
def test_30k_htex_noop_tasks_bounded_memory(tmp_path):
    env = dict(os.environ, LOAD_RUN_DIR=str(tmp_path / "runinfo"))
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "30000", "--step", "6000", "--chunk", "3000", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout.strip().splitlines()[-1])["rows"]
    assert [r["tasks"] for r in rows] == [6_000, 12_000, 18_000, 24_000, 30_000]
    assert rows[0]["ix_rss_mb"] > 0, "the interchange process was not found"
    # after the first step, 24k more tasks may add only a few MB to either process (a leak of
    # 400 bytes per task would add ~10 MB)
    assert rows[-1]["rss_mb"] - rows[0]["rss_mb"] < 8, rows
    assert rows[-1]["ix_rss_mb"] - rows[0]["ix_rss_mb"] < 8, rows
    assert rows[-1]["peak_rss_mb"] - rows[0]["peak_rss_mb"] < 12, rows
