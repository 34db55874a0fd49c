"""parsl-staging: HTTP/HTTPS, FTP, rsync and Globus file staging for parslcore."""
from __future__ import annotations

__version__ = "2026.11.21"
