"""Errors raised when a staging transfer fails; each names the URL and the reason."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from parsl.errors import ParslError

__all__ = [
    "FTPStagingError",
    "GlobusTransferError",
    "HTTPStagingError",
    "RSyncStagingError",
    "StagingError",
    "redact_url",
]


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (error messages must not leak it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class StagingError(ParslError):
    """Moving a File to or from where a task runs failed.

    ``url`` is the File's URL (passwords redacted in the message), ``reason`` says what went
    wrong. The arguments are kept in ``args`` so the error pickles across processes.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"Staging {redact_url(self.url)} failed: {self.reason}"


class HTTPStagingError(StagingError):
    """An HTTP or HTTPS download failed; ``status`` is the HTTP status code, if one came back."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        ParslError.__init__(self, url, reason, status)
        self.url = url
        self.reason = reason
        self.status = status

    def __str__(self) -> str:
        if self.status is not None:
            return f"HTTP download of {redact_url(self.url)} failed with status {self.status}: {self.reason}"
        return f"HTTP download of {redact_url(self.url)} failed: {self.reason}"


class FTPStagingError(StagingError):
    """An FTP download or upload failed."""

    def __str__(self) -> str:
        return f"FTP transfer of {redact_url(self.url)} failed: {self.reason}"


class RSyncStagingError(StagingError):
    """``rsync`` exited with an error; ``url`` is ``host:path``."""

    def __str__(self) -> str:
        return f"rsync of {self.url} failed: {self.reason}"


class GlobusTransferError(StagingError):
    """A Globus transfer was rejected or ended without succeeding; ``url`` is the globus:// URL."""

    def __str__(self) -> str:
        return f"Globus transfer of {self.url} failed: {self.reason}"
