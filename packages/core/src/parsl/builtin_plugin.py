"""The builtin plugin: core's own executors, providers, launchers and staging.

Registered through the same hooks as third-party plugins (see ``DEFAULT_PLUGINS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl.plugins import hookimpl

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging
    from parsl.executors.base import ParslExecutor
    from parsl.launchers.base import Launcher
    from parsl.providers.base import ExecutionProvider


@hookimpl
def parsl_register_executors() -> list[type[ParslExecutor]]:
    from parsl.executors.threads import ThreadPoolExecutor

    return [ThreadPoolExecutor]


@hookimpl
def parsl_register_providers() -> list[type[ExecutionProvider]]:
    from parsl.providers.local.local import LocalProvider

    return [LocalProvider]


@hookimpl
def parsl_register_launchers() -> list[type[Launcher]]:
    from parsl.launchers.launchers import SimpleLauncher, SingleNodeLauncher

    return [SimpleLauncher, SingleNodeLauncher]


@hookimpl
def parsl_register_staging_providers() -> list[type[Staging]]:
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.data_provider.zip import ZipFileStaging

    return [NoOpFileStaging, ZipFileStaging]


@hookimpl
def parsl_default_staging() -> list[Staging]:
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.data_provider.zip import ZipFileStaging

    return [NoOpFileStaging(), ZipFileStaging()]
