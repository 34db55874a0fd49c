"""The builtin plugin: core's own executors, providers, launchers, staging and serializer.

Registered through the same hooks as third-party plugins (see ``DEFAULT_PLUGINS``).
"""

from __future__ import annotations

from typing import Any

from parsl.plugins import hookimpl


@hookimpl
def parsl_register_executors() -> list[type]:
    from parsl.executors.threads import ThreadPoolExecutor

    return [ThreadPoolExecutor]


@hookimpl
def parsl_register_providers() -> list[type]:
    from parsl.providers.local.local import LocalProvider

    return [LocalProvider]


@hookimpl
def parsl_register_launchers() -> list[type]:
    from parsl.launchers.launchers import SimpleLauncher, SingleNodeLauncher

    return [SimpleLauncher, SingleNodeLauncher]


@hookimpl
def parsl_register_staging_providers() -> list[type]:
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.data_provider.zip import ZipFileStaging

    return [NoOpFileStaging, ZipFileStaging]


@hookimpl
def parsl_register_serializers() -> list[type]:
    from parsl.serialize.pickle import PickleSerializer

    return [PickleSerializer]


@hookimpl
def parsl_default_staging() -> list[Any]:
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.data_provider.zip import ZipFileStaging

    return [NoOpFileStaging(), ZipFileStaging()]
