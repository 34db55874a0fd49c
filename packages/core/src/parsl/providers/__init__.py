"""Execution providers: where blocks of workers come from.

``LocalProvider`` is built in. Scheduler and cloud providers (``SlurmProvider``,
``PBSProProvider``, ``KubernetesProvider``, ...) come from the optional
``parsl-providers`` package and are imported on first use; without it, importing
one raises ImportError naming the ``pip install`` command to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl._lazy import OptionalName, lazy_module_getattr, providers
from parsl.providers.base import ExecutionProvider
from parsl.providers.cluster_provider import ClusterProvider
from parsl.providers.local.local import LocalProvider

if TYPE_CHECKING:  # the classes the optional names resolve to, for type checkers
    from parsl_providers.ad_hoc import AdHocProvider as AdHocProvider
    from parsl_providers.aws import AWSProvider as AWSProvider
    from parsl_providers.cobalt import CobaltProvider as CobaltProvider
    from parsl_providers.condor import CondorProvider as CondorProvider
    from parsl_providers.googlecloud import GoogleCloudProvider as GoogleCloudProvider
    from parsl_providers.grid_engine import GridEngineProvider as GridEngineProvider
    from parsl_providers.kubernetes import KubernetesProvider as KubernetesProvider
    from parsl_providers.lsf import LSFProvider as LSFProvider
    from parsl_providers.pbspro import PBSProProvider as PBSProProvider
    from parsl_providers.slurm import SlurmProvider as SlurmProvider
    from parsl_providers.torque import TorqueProvider as TorqueProvider

__all__ = ["ClusterProvider", "ExecutionProvider", "LocalProvider"]

OPTIONAL_PROVIDERS: dict[str, OptionalName] = {
    "SlurmProvider": providers("SlurmProvider", "slurm"),
    "PBSProProvider": providers("PBSProProvider"),
    "TorqueProvider": providers("TorqueProvider"),
    "CondorProvider": providers("CondorProvider"),
    "GridEngineProvider": providers("GridEngineProvider"),
    "LSFProvider": providers("LSFProvider"),
    "CobaltProvider": providers("CobaltProvider"),
    "AdHocProvider": providers("AdHocProvider"),
    "GoogleCloudProvider": providers("GoogleCloudProvider"),
    "KubernetesProvider": providers("KubernetesProvider", "kubernetes"),
    "AWSProvider": providers("AWSProvider", "aws"),
}

__getattr__ = lazy_module_getattr(__name__, OPTIONAL_PROVIDERS, plugin_kind="providers")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(OPTIONAL_PROVIDERS))
