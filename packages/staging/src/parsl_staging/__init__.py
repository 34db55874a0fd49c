"""parsl-staging: HTTP/HTTPS, FTP, rsync and Globus file staging for parslcore.

Scripts import the providers from Parsl's paths (``parsl.data_provider.http`` and so on);
they are also importable from here. HTTP and FTP join ``default_staging`` when this
package is installed.
"""

from __future__ import annotations

from parsl._lazy import OptionalName, lazy_module_getattr

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

#: public name -> the module of this package that defines it (imported on first use)
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

__getattr__ = lazy_module_getattr(
    __name__,
    {
        name: OptionalName(f"{__name__}.{module}", name, "staging", "parsl-staging")
        for name, module in _WHERE.items()
    },
)
