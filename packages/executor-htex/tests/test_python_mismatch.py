"""A worker pool running another Python minor version than the workflow is refused: the
workflow's tasks fail with VersionMismatch naming both versions and the fix, without a hang.

The pool really runs on another interpreter (a pyenv Python of another X.Y), in a throwaway
virtual environment with pyzmq and cloudpickle, cached under ``.cache/`` at the repository's
root; our package comes from its source directory on PYTHONPATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.errors import BadStateException
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor, VersionMismatch
from parsl_executor_htex.executor import DEFAULT_LAUNCH_CMD

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "packages" / "executor-htex" / "src"
PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
BOUND = 60  # seconds for the refusal to reach the task (pool start-up in a fresh venv included)


def _other_interpreter() -> tuple[str, Path] | None:
    """``("X.Y", python)`` of a pyenv interpreter of another minor version than this one."""
    ours = "{}.{}".format(*sys.version_info[:2])
    for candidate in sorted(PYENV.glob("3.*/bin/python")):
        minor = ".".join(candidate.parent.parent.name.split(".")[:2])
        if minor != ours and minor in ("3.10", "3.11", "3.12", "3.13"):
            return minor, candidate
    return None


@pytest.fixture(scope="session")
def other_python() -> tuple[str, Path]:
    """A Python of another X.Y with the pool's third-party imports (built once, then cached)."""
    found = _other_interpreter()
    if found is None:
        pytest.skip(f"no pyenv Python of a minor version other than {sys.version_info[:2]} in {PYENV}")
    minor, base = found
    venv = ROOT / ".cache" / f"htex-pool-py{minor}"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import zmq, cloudpickle"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return minor, python
    building = venv.with_name(f"{venv.name}.{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    steps = [
        [str(base), "-m", "venv", str(building)],
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "pyzmq", "cloudpickle"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if done.returncode:
            shutil.rmtree(building, ignore_errors=True)
            pytest.skip(f"cannot build a Python {minor} environment for the pool: {done.stderr[-500:]}")
    shutil.rmtree(venv, ignore_errors=True)
    os.rename(building, venv)  # bin/python finds its environment by pyvenv.cfg beside it
    assert subprocess.run(check, capture_output=True).returncode == 0
    return minor, python


def hello():
    return "hello"


def test_pool_on_another_python_minor_fails_the_workflow_with_version_mismatch(
    other_python, tmp_path, htex_tools
):
    minor, python = other_python
    ours = "{}.{}".format(*sys.version_info[:2])
    launch_cmd = DEFAULT_LAUNCH_CMD.replace(
        "process_worker_pool.py", f"{python} -m parsl_executor_htex.process_worker_pool", 1
    )
    htex = HighThroughputExecutor(
        label="other_python",
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=5,
        launch_cmd=launch_cmd,
        provider=LocalProvider(init_blocks=1, max_blocks=1, worker_init=f"export PYTHONPATH={SRC}"),
    )
    before = htex_tools.processes()
    dfk = parsl.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        started = time.monotonic()
        fut = python_app(hello, executors=["other_python"])()
        with pytest.raises((VersionMismatch, BadStateException)) as info:
            fut.result(timeout=BOUND)
        assert time.monotonic() - started < BOUND
        # the task fails with the executor's bad state (Parsl's BadStateException) carrying
        # the mismatch's text; the executor keeps the VersionMismatch itself
        mismatch = htex.executor_exception
        assert isinstance(mismatch, VersionMismatch), f"{type(info.value).__name__}: {info.value}"
        text = str(mismatch)
        assert text in str(info.value)
        assert f"runs Python {minor} and the workflow Python {ours}" in text, text
        assert f"run the worker pools with Python {ours}" in text, text
        assert re.search(r"block 0 on host", text), text
        # later tasks fail at once, as clearly
        with pytest.raises(VersionMismatch, match=f"Python {minor}"):
            htex.submit(hello, {})
    finally:
        dfk.cleanup()
        parsl.clear()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived cleanup"
