"""What the version handshake between worker pools and the interchange compares, and the
VersionMismatch it produces (the real cross-interpreter run is in test_python_mismatch.py)."""

from __future__ import annotations

import pickle
import re
import sys
from pathlib import Path

import parsl_executor_htex
from parsl_executor_htex import VersionMismatch
from parsl_executor_htex.messages import version_info

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_handshake_compares_python_minor_and_the_packaged_version():
    info = version_info()
    assert info["python"] == "{}.{}".format(*sys.version_info[:2])
    # the version the handshake sends is the package's one version: the __version__ that
    # scripts/bump_version.py moves, which is (or equals) the distribution's version
    assert info["parsl-executor-htex"] == parsl_executor_htex.__version__
    text = PYPROJECT.read_text()
    static = re.findall(r'^version = "([^"]+)"$', text, re.M)
    if static:
        assert static == [parsl_executor_htex.__version__]
    else:
        assert re.search(r"^dynamic = \[[^]]*\"version\"", text, re.M), "pyproject.toml declares no version"
        assert re.search(
            r'^\[tool\.hatch\.version\]\npath = "src/parsl_executor_htex/__init__.py"$', text, re.M
        ), "the dynamic version must come from parsl_executor_htex/__init__.py"


def test_mismatch_names_both_pythons_and_the_fix_and_survives_pickling():
    ours = {"python": "3.11", "parsl-executor-htex": "1.0", "platform": "Linux"}
    theirs = {**ours, "python": "3.10"}
    err = VersionMismatch.between(ours, theirs, "worker pool p1 of block 0 on host n1")
    text = str(err)
    assert "the worker pool runs Python 3.10 and the workflow Python 3.11" in text
    assert "run the worker pools with Python 3.11" in text
    assert "parsl-executor-htex" not in err.fix  # only what differs is named
    assert "block 0 on host n1" in err.manager_version
    again = pickle.loads(pickle.dumps(err))  # the interchange sends it to the executor pickled
    assert str(again) == text


def test_mismatch_of_the_package_names_the_version_to_install():
    ours = {"python": "3.11", "parsl-executor-htex": "1.0", "platform": "Linux"}
    err = VersionMismatch.between(ours, {**ours, "parsl-executor-htex": "0.9"}, "pool")
    assert "install parsl-executor-htex==1.0 where the pools run" in str(err)
    assert "Python" not in err.fix
    # Parsl's two-argument form still works, with a generic fix
    assert "install the same versions" in str(VersionMismatch("a", "b"))
