"""Providers, launchers and channels from parsl-providers import lazily, with install hints."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

HAVE_PLUGIN = importlib.util.find_spec("parsl_providers") is not None
needs_missing = pytest.mark.skipif(HAVE_PLUGIN, reason="parsl-providers is installed")

PROVIDERS = {
    "SlurmProvider": "slurm",
    "PBSProProvider": "providers",
    "TorqueProvider": "providers",
    "CondorProvider": "providers",
    "GridEngineProvider": "providers",
    "LSFProvider": "providers",
    "CobaltProvider": "providers",
    "AdHocProvider": "providers",
    "GoogleCloudProvider": "providers",
    "KubernetesProvider": "kubernetes",
    "AWSProvider": "aws",
}
OLD_PATHS = {
    "parsl.providers.slurm.slurm": "SlurmProvider",
    "parsl.providers.pbspro.pbspro": "PBSProProvider",
    "parsl.providers.torque.torque": "TorqueProvider",
    "parsl.providers.condor.condor": "CondorProvider",
    "parsl.providers.grid_engine.grid_engine": "GridEngineProvider",
    "parsl.providers.lsf.lsf": "LSFProvider",
    "parsl.providers.kubernetes.kube": "KubernetesProvider",
    "parsl.providers.aws.aws": "AWSProvider",
    "parsl.providers.googlecloud.googlecloud": "GoogleCloudProvider",
    "parsl.providers.ad_hoc.ad_hoc": "AdHocProvider",
    "parsl.providers.cobalt.cobalt": "CobaltProvider",
    "parsl.channels.ssh.ssh": "SSHChannel",
    "parsl.channels.ssh_il.ssh_il": "SSHInteractiveLoginChannel",
    "parsl.channels.oauth_ssh.oauth_ssh": "OAuthSSHChannel",
}
LAUNCHERS = [
    "SrunLauncher",
    "SrunMPILauncher",
    "AprunLauncher",
    "JsrunLauncher",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "GnuParallelLauncher",
    "WrappedLauncher",
]


def test_builtin_names_import_without_plugins():
    from parsl.channels import LocalChannel  # noqa: F401
    from parsl.launchers import SimpleLauncher, SingleNodeLauncher  # noqa: F401
    from parsl.providers import ClusterProvider, ExecutionProvider, LocalProvider  # noqa: F401
    from parsl.providers.local.local import LocalProvider as Same

    assert Same is LocalProvider


@needs_missing
def test_slurm_install_hint():
    with pytest.raises(ImportError, match=r"pip install 'parslcore\[slurm\]'"):
        from parsl.providers import SlurmProvider  # noqa: F401


@needs_missing
@pytest.mark.parametrize("name, extra", sorted(PROVIDERS.items()))
def test_provider_install_hints(name, extra):
    import parsl.providers

    with pytest.raises(ImportError) as info:
        getattr(parsl.providers, name)
    assert f"pip install 'parslcore[{extra}]'" in str(info.value)
    assert name in str(info.value)


@needs_missing
@pytest.mark.parametrize("module, name", sorted(OLD_PATHS.items()))
def test_old_import_paths(module, name):
    mod = importlib.import_module(module)
    with pytest.raises(ImportError, match=r"pip install 'parslcore\["):
        getattr(mod, name)


@needs_missing
@pytest.mark.parametrize("name", LAUNCHERS)
def test_launcher_install_hints(name):
    import parsl.launchers
    import parsl.launchers.launchers

    for module in (parsl.launchers, parsl.launchers.launchers):
        with pytest.raises(ImportError, match=r"pip install 'parslcore\[providers\]'"):
            getattr(module, name)


@needs_missing
@pytest.mark.parametrize("name", ["SSHChannel", "SSHInteractiveLoginChannel", "OAuthSSHChannel"])
def test_channel_install_hints(name):
    import parsl.channels

    with pytest.raises(ImportError, match=r"pip install 'parslcore\[ssh\]'"):
        getattr(parsl.channels, name)


def test_unknown_names_are_attribute_errors():
    import parsl.launchers
    import parsl.providers

    with pytest.raises(AttributeError):
        parsl.providers.NoSuchProvider  # noqa: B018
    with pytest.raises(AttributeError):
        parsl.launchers.NoSuchLauncher  # noqa: B018
    assert "SlurmProvider" in dir(parsl.providers)


@pytest.mark.skipif(not HAVE_PLUGIN, reason="parsl-providers is not installed")
def test_plugin_names_resolve():
    import parsl.providers
    from parsl.providers.base import ExecutionProvider

    assert issubclass(parsl.providers.SlurmProvider, ExecutionProvider)
