"""A tutorial-style script using parsl.configs.htex_local runs unchanged and exits promptly."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "htex_tutorial.py"


@pytest.mark.slow
def test_htex_local_tutorial_script_runs_unchanged(tmp_path):
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "runinfo")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Hello World!",
        "squares: [0, 1, 4, 9, 16] on workers: True",
        "cat: from-a-bash-app",
        "caught ZeroDivisionError from a worker",
        "done",
    ]
    # No cleanup call in the script: interpreter exit must stop the interchange and pools.
    assert elapsed < 60


OLD_SCRIPT = """
import sys
import parsl
from parsl.addresses import address_by_hostname
from parsl.channels import LocalChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from parsl.app.app import python_app

config = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_local",
            address=address_by_hostname(),
            cores_per_worker=1,
            max_workers=2,
            provider=LocalProvider(channel=LocalChannel(), init_blocks=1, max_blocks=1),
        )
    ],
    checkpoint_mode="task_exit",
    run_dir=sys.argv[1],
)
parsl.load(config)

@python_app
def add(a, b):
    return a + b

print(add(add(1, 2), 3).result())
parsl.dfk().cleanup()
parsl.clear()
"""


@pytest.mark.slow
def test_09_era_htex_config_runs_unchanged(tmp_path):
    script = tmp_path / "old.py"
    script.write_text(OLD_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", str(script), str(tmp_path / "runinfo")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "6"
