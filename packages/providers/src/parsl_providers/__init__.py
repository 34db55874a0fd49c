"""parsl-providers: batch-scheduler and cloud execution providers, launchers and SSH channels.

Names are imported on first use (PEP 562), so ``import parsl_providers`` is cheap and a
provider whose optional dependency is missing (``paramiko``, ``boto3``, ``kubernetes``)
does not stop the others from loading. Parsl scripts import these classes from
``parsl.providers``, ``parsl.launchers`` and ``parsl.channels``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "2026.11.21"

#: public name -> the module of this package that defines it
_WHERE: dict[str, str] = {
    "SlurmProvider": "slurm",
    "TorqueProvider": "torque",
    "PBSProProvider": "pbspro",
    "GridEngineProvider": "grid_engine",
    "CondorProvider": "condor",
    "LSFProvider": "lsf",
    "CobaltProvider": "cobalt",
    "AdHocProvider": "ad_hoc",
    "AWSProvider": "aws",
    "KubernetesProvider": "kubernetes",
    "GoogleCloudProvider": "googlecloud",
    "SrunLauncher": "launchers",
    "SrunMPILauncher": "launchers",
    "AprunLauncher": "launchers",
    "JsrunLauncher": "launchers",
    "MpiExecLauncher": "launchers",
    "MpiRunLauncher": "launchers",
    "GnuParallelLauncher": "launchers",
    "WrappedLauncher": "launchers",
    "SSHChannel": "ssh",
    "SSHInteractiveLoginChannel": "ssh",
    "OAuthSSHChannel": "oauth_ssh",
}

#: the extra of parslcore that installs a name's third-party dependency
_EXTRA = {
    "SSHChannel": "ssh",
    "SSHInteractiveLoginChannel": "ssh",
    "OAuthSSHChannel": "ssh",
    "AWSProvider": "aws",
    "KubernetesProvider": "kubernetes",
    "GoogleCloudProvider": "providers",
}

__all__ = [
    "AWSProvider",
    "AdHocProvider",
    "AprunLauncher",
    "CobaltProvider",
    "CondorProvider",
    "GnuParallelLauncher",
    "GoogleCloudProvider",
    "GridEngineProvider",
    "JsrunLauncher",
    "KubernetesProvider",
    "LSFProvider",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "OAuthSSHChannel",
    "PBSProProvider",
    "SSHChannel",
    "SSHInteractiveLoginChannel",
    "SlurmProvider",
    "SrunLauncher",
    "SrunMPILauncher",
    "TorqueProvider",
    "WrappedLauncher",
]


def __getattr__(name: str) -> Any:
    module_name = _WHERE.get(name)
    if module_name is None:
        raise AttributeError(f"module 'parsl_providers' has no attribute {name!r}")
    try:
        module = importlib.import_module(f"parsl_providers.{module_name}")
    except ModuleNotFoundError as e:
        if e.name and not e.name.startswith("parsl"):
            extra = _EXTRA.get(name, "providers")
            raise ImportError(
                f"{name} needs the Python package {e.name!r}, which is not installed. "
                f"Install it with: pip install 'parslcore[{extra}]'",
                name=e.name,
            ) from e
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
