"""Upstream parsl installed beside parslcore is reported, at `import parsl` and by `python -m parsl doctor`.

These tests fake a site-packages folder; tests/test_wheelhouse.py installs the real upstream
wheel beside parslcore's in both orders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import parsl
from parsl._coexist import FIX, IGNORE_ENV, ConflictingInstallError, check_at_import, diagnose

PARSL_DIR = Path(parsl.__file__).resolve().parent


def fake_site(tmp_path: Path, *meta: tuple[str, str, str]) -> Path:
    """A site-packages folder holding parslcore's ``parsl`` package and the given metadata folders.

    Each ``meta`` is ``(folder name, file-list name, file-list text)``.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "parsl").symlink_to(PARSL_DIR, target_is_directory=True)
    for folder, listing, text in meta:
        (site / folder).mkdir()
        (site / folder / listing).write_text(text)
    return site


UPSTREAM_RECORD = (
    "parsl-2026.10.26.dist-info",
    "RECORD",
    "parsl/__init__.py,sha256=abc,123\nparsl/version.py,sha256=def,45\n",
)


def test_no_upstream_metadata_means_nothing_happens(tmp_path):
    site = fake_site(
        tmp_path,
        ("parslcore-2026.11.21.dist-info", "RECORD", "parsl/__init__.py,,\n"),
        ("parsl_executor_htex-2026.11.21.dist-info", "RECORD", "parsl_executor_htex/__init__.py,,\n"),
    )
    check_at_import(str(site / "parsl"), "2026.11.21")


def test_upstream_dist_info_beside_parslcore_raises_with_both_names_and_the_fix(tmp_path):
    site = fake_site(tmp_path, UPSTREAM_RECORD)
    with pytest.raises(ConflictingInstallError) as info:
        check_at_import(str(site / "parsl"), "2026.11.21")
    message = str(info.value)
    assert isinstance(info.value, ImportError)
    assert "'parsl' 2026.10.26" in message and "'parslcore' 2026.11.21" in message
    assert str(site) in message and FIX in message


def test_an_egg_info_install_of_upstream_is_found_too(tmp_path):
    site = fake_site(
        tmp_path,
        (
            "parsl-2026.10.26-py3.11.egg-info",
            "installed-files.txt",
            "../parsl/__init__.py\n../parsl/version.py\n",
        ),
    )
    with pytest.raises(ConflictingInstallError, match=r"'parsl' 2026\.10\.26\)"):
        check_at_import(str(site / "parsl"), "2026.11.21")


def test_metadata_that_does_not_own_parsl_init_is_not_a_conflict(tmp_path):
    site = fake_site(tmp_path, ("parsl-0.1.dist-info", "RECORD", "parsl_other/__init__.py,,\n"))
    check_at_import(str(site / "parsl"), "2026.11.21")


def test_the_environment_variable_turns_the_error_into_a_warning(tmp_path, monkeypatch):
    site = fake_site(tmp_path, UPSTREAM_RECORD)
    monkeypatch.setenv(IGNORE_ENV, "1")
    with pytest.warns(RuntimeWarning, match="pip uninstall -y parsl parslcore"):
        check_at_import(str(site / "parsl"), "2026.11.21")


def _python(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARSL_")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, *args], cwd=site.parent, env=env, capture_output=True, text=True, timeout=60
    )


def test_import_parsl_fails_with_the_report(tmp_path):
    site = fake_site(tmp_path, UPSTREAM_RECORD)
    out = _python(site, "-c", "import parsl")
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("parsl._coexist.ConflictingInstallError: Both upstream Parsl")
    assert FIX in last
    # python -m parsl doctor imports the package first, so it shows the same report
    doctor = _python(site, "-m", "parsl", "doctor")
    assert doctor.returncode == 1 and "ConflictingInstallError" in doctor.stderr and FIX in doctor.stderr


def test_doctor_reports_a_sibling_out_of_lockstep(tmp_path):
    site = tmp_path / "site-packages"
    meta = site / "parsl_executor_htex-1.0.dist-info"
    meta.mkdir(parents=True)
    meta.joinpath("METADATA").write_text(
        "Metadata-Version: 2.1\nName: parsl-executor-htex\nVersion: 1.0\nRequires-Dist: parslcore==1.0\n"
    )
    out = _python(site, "-m", "parsl", "doctor")
    assert out.returncode == 1
    assert f"parsl-executor-htex 1.0 does not match parslcore {parsl.__version__}" in out.stdout
    assert f"pip install 'parsl-executor-htex=={parsl.__version__}'" in out.stdout


def test_doctor_is_clean_in_this_environment():
    assert diagnose() == []
    out = subprocess.run(
        [sys.executable, "-m", "parsl", "doctor"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no problems found" in out.stdout
