"""parsl-staging: HTTP/HTTPS, FTP, rsync and Globus file staging for parslcore.

Scripts import the providers from Parsl's paths (``parsl.data_provider.http`` and so on);
they are also importable from here. HTTP and FTP join ``default_staging`` when this
package is installed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "2026.11.21"

__all__ = [
    "FTPInTaskStaging",
    "FTPSeparateTaskStaging",
    "FTPStagingError",
    "Globus",
    "GlobusStaging",
    "GlobusTransferError",
    "HTTPInTaskStaging",
    "HTTPSeparateTaskStaging",
    "HTTPStagingError",
    "RSyncStaging",
    "RSyncStagingError",
    "StagingError",
    "cli_run",
    "get_globus",
]

_WHERE = {
    "HTTPSeparateTaskStaging": "http",
    "HTTPInTaskStaging": "http",
    "FTPSeparateTaskStaging": "ftp",
    "FTPInTaskStaging": "ftp",
    "RSyncStaging": "rsync",
    "GlobusStaging": "globus",
    "Globus": "globus",
    "get_globus": "globus",
    "cli_run": "globus",
    "StagingError": "errors",
    "HTTPStagingError": "errors",
    "FTPStagingError": "errors",
    "RSyncStagingError": "errors",
    "GlobusTransferError": "errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'parsl_staging' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"parsl_staging.{module}"), name)
    globals()[name] = value
    return value
