"""The package registers through the ``parsl`` entry point, and the SDK is imported only when used."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

from parsl.errors import OptionalModuleMissing
from parsl.plugins import default_plugin_manager
from parsl_executor_globus_compute import GlobusComputeExecutor


def test_entry_point_registers_the_executor():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="parsl")}
    assert eps["globus-compute"] == "parsl_executor_globus_compute.plugin"
    assert default_plugin_manager().executors()["globus_compute"] is GlobusComputeExecutor


def test_python_m_parsl_plugins_lists_it():
    out = subprocess.run(
        [sys.executable, "-m", "parsl", "plugins", "--json"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["globus-compute"]["distribution"] == "parsl-executor-globus-compute"
    assert rows["globus-compute"]["provides"]["executors"] == ["GlobusComputeExecutor"]


def test_listing_plugins_does_not_import_the_sdk():
    code = (
        "import sys\nfrom parsl.plugins import default_plugin_manager\n"
        "assert 'globus_compute' in default_plugin_manager().executors()\n"
        "print('globus_compute_sdk' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_without_the_sdk_making_the_executor_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "globus_compute_sdk", None)  # `import globus_compute_sdk` fails
    with pytest.raises(OptionalModuleMissing, match=r"pip install 'parslcore\[globus-compute\]'") as info:
        GlobusComputeExecutor(object())
    assert info.value.module_names == ["globus-compute-sdk"]
    assert isinstance(info.value.__cause__, ImportError)


def test_the_package_version_is_its_distributions():
    import parsl_executor_globus_compute as pkg

    assert (
        pkg.__version__
        == importlib.metadata.version("parsl-executor-globus-compute")
        == importlib.metadata.version("parslcore")
    )
    assert "globus-compute-sdk" in _requirement_names("parsl-executor-globus-compute")


def test_nothing_pulls_upstream_parsl_which_owns_the_same_import_package():
    # upstream Parsl's 'parsl' distribution would overwrite parslcore's files (see parsl._coexist)
    assert "parsl" not in _requirement_names("parsl-executor-globus-compute")
    assert "parsl" not in _requirement_names("globus-compute-sdk")
    assert "parsl" not in _requirement_names("globus-compute-common")


def _requirement_names(distribution):
    from packaging.requirements import Requirement

    return {Requirement(r).name.lower() for r in importlib.metadata.requires(distribution) or ()}
