"""scripts/bump_version.py moves every version and sibling pin together, and its check catches drift."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "bump_version.py"

spec = importlib.util.spec_from_file_location("bump_version", SCRIPT)
assert spec and spec.loader
bump_version = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bump_version)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every package's pyproject.toml and Python sources."""
    for pkg in ROOT.glob("packages/*/pyproject.toml"):
        dest = tmp_path / pkg.parent.relative_to(ROOT)
        shutil.copytree(pkg.parent / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(pkg, dest / "pyproject.toml")
    return tmp_path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_the_tree_is_in_lockstep():
    proc = _run("--check")
    assert proc.returncode == 0, proc.stderr
    assert f"every package is at {bump_version.current_version(ROOT)}" in proc.stdout


def test_bump_moves_every_version_source_and_pin(tree):
    proc = _run("2099.1.2", "--root", str(tree))
    assert proc.returncode == 0, proc.stderr
    assert "updated" in proc.stdout
    assert bump_version.check(tree) == []
    assert bump_version.current_version(tree) == "2099.1.2"
    sources = bump_version.version_sources(tree)
    assert len(sources) == len(bump_version.SIBLINGS)
    for pyproject, source in sources.items():
        assert source != pyproject
        assert re.search(r'^(__version__|VERSION) = "2099\.1\.2"$', source.read_text(), re.M), source
        assert "2026." not in re.sub(r"(?m)^#.*$", "", pyproject.read_text())
    pins = re.findall(r"==2099\.1\.2", (tree / "packages/core/pyproject.toml").read_text())
    assert len(pins) > 5


@pytest.mark.parametrize(
    ("path", "old", "new", "reported"),
    [
        # one package's __version__ off by one release
        (
            "packages/staging/src/parsl_staging/__init__.py",
            r'__version__ = "[^"]+"',
            '__version__ = "1999.1.1"',
            "package versions differ",
        ),
        # core's own version source
        (
            "packages/core/src/parsl/version.py",
            r'VERSION = "[^"]+"',
            'VERSION = "1999.1.1"',
            "package versions differ",
        ),
        # a second hard-coded version next to the source
        (
            "packages/providers/src/parsl_providers/plugin.py",
            r"\Z",
            '\n__version__ = "2026.11.21"\n',
            "a second version literal",
        ),
        # a pin left behind
        (
            "packages/core/pyproject.toml",
            r"parsl-staging==[^\"]+",
            "parsl-staging==1999.1.1",
            "siblings pin",
        ),
        # a static version back in a pyproject
        (
            "packages/monitoring/pyproject.toml",
            r'dynamic = \["version"\]',
            'version = "2026.11.21"',
            "must be dynamic",
        ),
    ],
    ids=["dunder-version", "core-version", "second-literal", "stale-pin", "static-version"],
)
def test_check_reports_each_kind_of_drift(tree, path, old, new, reported):
    target = tree / path
    text = target.read_text()
    broken = re.sub(old, new, text, count=1)
    assert broken != text
    target.write_text(broken)
    problems = bump_version.check(tree)
    assert any(reported in p for p in problems), problems
    proc = _run("--check", "--root", str(tree))
    assert proc.returncode == 1 and reported in proc.stderr


def test_rejects_a_non_version(tmp_path):
    proc = _run("next", "--root", str(tmp_path))
    assert proc.returncode != 0 and "is not a version" in proc.stderr
