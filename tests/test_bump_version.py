"""scripts/bump_version.py moves every version and sibling pin together."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_bump_moves_versions_and_pins_in_lockstep(tmp_path):
    for pyproject in ROOT.glob("packages/*/pyproject.toml"):
        dest = tmp_path / pyproject.relative_to(ROOT)
        dest.parent.mkdir(parents=True)
        shutil.copy(pyproject, dest)
    version_py = tmp_path / "packages/core/src/parsl/version.py"
    version_py.parent.mkdir(parents=True)
    shutil.copy(ROOT / "packages/core/src/parsl/version.py", version_py)

    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bump_version.py"), "2099.1.2", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "updated" in proc.stdout

    siblings = {
        "parslcore",
        "parsl-executor-htex",
        "parsl-executor-globus-compute",
        "parsl-providers",
        "parsl-monitoring",
        "parsl-staging",
    }
    pins = 0
    for pyproject in tmp_path.glob("packages/*/pyproject.toml"):
        meta = tomllib.loads(pyproject.read_text())["project"]
        assert meta["version"] == "2099.1.2"
        reqs = list(meta.get("dependencies", []))
        for extra in meta.get("optional-dependencies", {}).values():
            reqs.extend(extra)
        for req in reqs:
            m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?(.*)$", req)
            if m and m.group(1) in siblings:
                assert m.group(3) == "==2099.1.2", req
                pins += 1
    assert pins > 0
    assert 'VERSION = "2099.1.2"' in version_py.read_text()


def test_rejects_a_non_version(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bump_version.py"), "next", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "is not a version" in proc.stderr
