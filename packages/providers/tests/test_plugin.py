"""Registration through the plugin hooks, Parsl's import paths, missing optional packages,
and 0.9-era configurations."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import parsl_providers
from parsl_providers import plugin


def test_hooks_register_every_scheduler_provider_and_launcher():
    from parsl.plugins import new_plugin_manager

    pm = new_plugin_manager()
    providers = pm.providers()
    for name in (
        "SlurmProvider",
        "TorqueProvider",
        "PBSProProvider",
        "GridEngineProvider",
        "CondorProvider",
        "LSFProvider",
        "CobaltProvider",
        "AdHocProvider",
        "LocalProvider",
    ):
        assert name in providers, name
    assert providers["SlurmProvider"] is parsl_providers.SlurmProvider
    launchers = pm.launchers()
    # every launcher parsl.launchers promises (lazily, with an install hint) is registered
    from parsl.launchers.launchers import OPTIONAL_LAUNCHERS

    for name in (*OPTIONAL_LAUNCHERS, "SimpleLauncher", "SingleNodeLauncher"):
        assert name in launchers, name


def test_parsl_import_paths():
    from parsl.channels import SSHChannel, SSHInteractiveLoginChannel
    from parsl.channels.ssh.ssh import SSHChannel as OldSSH
    from parsl.launchers import MpiExecLauncher, SrunLauncher
    from parsl.launchers.launchers import SrunLauncher as OldSrun
    from parsl.providers import CondorProvider, SlurmProvider
    from parsl.providers.condor.condor import CondorProvider as OldCondor
    from parsl.providers.slurm.slurm import SlurmProvider as OldSlurm

    assert SlurmProvider is OldSlurm is parsl_providers.slurm.SlurmProvider
    assert CondorProvider is OldCondor and SrunLauncher is OldSrun
    assert SSHChannel is OldSSH and issubclass(SSHInteractiveLoginChannel, SSHChannel)
    assert MpiExecLauncher.__module__ == "parsl_providers.launchers"


@pytest.fixture
def no_paramiko(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", None)
    monkeypatch.delitem(sys.modules, "parsl_providers.ssh", raising=False)
    for name in ("SSHChannel", "SSHInteractiveLoginChannel"):
        monkeypatch.delitem(vars(parsl_providers), name, raising=False)
    # monkeypatch puts the real modules and names back afterwards


def test_missing_paramiko_names_the_extra(no_paramiko):
    with pytest.raises(ImportError, match=r"pip install 'parslcore\[ssh\]'"):
        parsl_providers.SSHChannel  # noqa: B018
    # The schedulers do not need paramiko.
    assert "SlurmProvider" in {c.__name__ for c in plugin.parsl_register_providers()}


def test_missing_optional_module_is_left_out(monkeypatch):
    monkeypatch.setitem(parsl_providers._WHERE, "GoogleCloudProvider", "parsl_providers._no_such_module")
    monkeypatch.delitem(vars(parsl_providers), "GoogleCloudProvider", raising=False)
    names = {c.__name__ for c in plugin.parsl_register_providers()}
    assert "GoogleCloudProvider" not in names and "SlurmProvider" in names
    with pytest.raises(AttributeError):
        parsl_providers.NoSuchProvider  # noqa: B018


def test_old_config_with_local_channel(tmp_path):
    from parsl.channels import LocalChannel
    from parsl.providers import SlurmProvider, TorqueProvider

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        channel = LocalChannel()
    # sacct is asked through the channel; no scheduler here is fine (it falls back to squeue).
    p = SlurmProvider("debug", channel=channel, nodes_per_block=2, max_blocks=4, move_files=True)
    assert p.partition == "debug" and p.channel is channel and p.nodes_per_block == 2
    assert p._moves_files() is True  # forced by move_files=True
    assert TorqueProvider(channel=channel)._moves_files() is False  # a LocalChannel shares our files
    assert "channel=LocalChannel" in repr(p)


def test_bad_values_fail_at_construction():
    from parsl.errors import ConfigurationError
    from parsl.providers import SlurmProvider

    with pytest.raises(ValueError, match="walltime"):
        SlurmProvider(walltime="ten minutes")
    with pytest.raises(ConfigurationError, match="min_blocks"):
        SlurmProvider(min_blocks=3, max_blocks=1)
    with pytest.raises(TypeError):
        SlurmProvider(launcher="srun")


def test_import_is_lazy():
    code = (
        "import sys, parsl_providers; assert 'parsl_providers.slurm' not in sys.modules; "
        "assert 'paramiko' not in sys.modules; print(parsl_providers.SlurmProvider.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "parsl_providers.slurm"
