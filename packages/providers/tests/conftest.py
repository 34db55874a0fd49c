"""Fixtures for the provider tests: the real Slurm, Grid Engine and sshd of .ci/infra.

A service that does not answer is started with its script; under CI (env ``CI`` set) a
service that should be up and is not is a failure, elsewhere the test is skipped with the
reason. Grid Engine is only up in the ``.ci/after.d/50-gridengine.sh`` step (it replaces
Slurm's Torque wrappers), which sets ``PARSL_TEST_SGE=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / ".ci" / "infra"
SSHD_DIR = Path(os.environ.get("SSHD_DIR", "/tmp/parsl-sshd"))
SGE_ENV = {"SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default"}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the service must be up: see .ci/setup.d)")
    pytest.skip(reason)


def _run(
    cmd: list[str], timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def _start(script: str, env: dict[str, str] | None = None) -> str | None:
    """Run an infra script; return None on success, else why it failed."""
    if os.geteuid() != 0:
        return f"{script} needs root"
    try:
        done = _run(["bash", str(INFRA / script)], env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{script} failed: {e}"
    if done.returncode != 0:
        return f"{script} failed (rc={done.returncode}): {done.stderr.strip()[-500:]}"
    return None


def slurm_ready() -> bool:
    if not shutil.which("sbatch"):
        return False
    try:
        states = _run(["sinfo", "-h", "-N", "-o", "%T"], timeout=20)
        acct = _run(["sacct", "-X", "-n", "-S", "now"], timeout=20)
        torque = _run(["dpkg-query", "-W", "-f=${Status}", "slurm-wlm-torque"], timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    nodes = states.stdout.split()
    usable = ("idle", "mixed", "allocated", "planned", "completing")
    return (
        states.returncode == 0
        and len(nodes) >= 3
        and all(s in usable for s in nodes)
        and acct.returncode == 0
        and "ok installed" in torque.stdout
    )


@pytest.fixture(scope="session")
def slurm() -> dict[str, Any]:
    """A Slurm cluster with 3 nodes (n1..n3), sacct and the Torque wrappers."""
    if not slurm_ready():
        why = _start("slurm-up.sh", {"SLURM_NODES": "3", "SLURM_ACCOUNTING": "1", "SLURM_TORQUE": "1"})
        if why or not slurm_ready():
            _unavailable(why or "Slurm is not usable after slurm-up.sh")
    return {"nodes": ["n1", "n2", "n3"]}


@pytest.fixture(scope="session")
def sshd() -> dict[str, Any]:
    """The test sshd on 127.0.0.1:2222 (key auth, root) and its client files."""

    def ok() -> bool:
        cfg = SSHD_DIR / "ssh_config"
        if not cfg.exists() or not shutil.which("ssh"):
            return False
        try:
            done = _run(["ssh", "-F", str(cfg), "-o", "ConnectTimeout=3", "testhost", "echo ok"], timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.stdout.strip() == "ok"

    if not ok():
        why = _start("sshd-up.sh")
        if why or not ok():
            _unavailable(why or "sshd does not answer after sshd-up.sh")
    pytest.importorskip("paramiko")
    return {
        "hostname": "127.0.0.1",
        "port": 2222,
        "username": "root",
        "key_filename": str(SSHD_DIR / "id_ed25519"),
        "host_keys_filename": str(SSHD_DIR / "known_hosts"),
        "dir": SSHD_DIR,
    }


@pytest.fixture(scope="session")
def sge() -> dict[str, str]:
    """Grid Engine with SGE_ROOT/SGE_CELL exported (only in the after-step, see module doc)."""
    wanted = os.environ.get("PARSL_TEST_SGE") == "1"

    def ok() -> bool:
        if not shutil.which("qconf"):
            return False
        try:
            return _run(["qstat", "-f"], timeout=20, env=SGE_ENV).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    if not ok():
        if not wanted:
            pytest.skip(
                "Grid Engine is not up: it conflicts with Slurm's Torque wrappers, so it runs in "
                ".ci/after.d/50-gridengine.sh (PARSL_TEST_SGE=1 hatch test -m gridengine)"
            )
        why = _start("sge-up.sh")
        if why or not ok():
            pytest.fail(why or "Grid Engine does not answer after sge-up.sh")
    for key, value in SGE_ENV.items():
        os.environ.setdefault(key, value)
    return dict(SGE_ENV)


def wait_until(predicate: Callable[[], Any], timeout: float, period: float = 0.3) -> Any:
    """Poll ``predicate`` until it returns something true; return it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(period)
        value = predicate()
    return value


@pytest.fixture
def script_dir(tmp_path: Path) -> str:
    d = tmp_path / "submit_scripts"
    d.mkdir()
    return str(d)


@pytest.fixture(scope="session")
def wait() -> Callable[..., Any]:
    """``wait(predicate, timeout, period=0.3)``: poll until true, return the last value."""
    return wait_until
