"""Hook implementations registering this package's classes with parslcore."""

from __future__ import annotations

from typing import Any

from parsl import hookimpl


@hookimpl
def parsl_register_staging_providers() -> list[type]:
    from parsl_staging.ftp import FTPInTaskStaging, FTPSeparateTaskStaging
    from parsl_staging.globus import GlobusStaging
    from parsl_staging.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
    from parsl_staging.rsync import RSyncStaging

    return [
        HTTPSeparateTaskStaging,
        HTTPInTaskStaging,
        FTPSeparateTaskStaging,
        FTPInTaskStaging,
        RSyncStaging,
        GlobusStaging,
    ]


@hookimpl
def parsl_default_staging() -> list[Any]:
    from parsl_staging.ftp import FTPSeparateTaskStaging
    from parsl_staging.http import HTTPSeparateTaskStaging

    return [FTPSeparateTaskStaging(), HTTPSeparateTaskStaging()]
