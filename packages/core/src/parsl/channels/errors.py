"""Exceptions raised by channels."""

from __future__ import annotations

from typing import Any

from parsl.errors import ParslError

__all__ = [
    "AuthException",
    "BadHostKeyException",
    "BadPermsScriptPath",
    "BadScriptPath",
    "ChannelError",
    "FileCopyException",
    "FileExists",
    "SSHException",
]


class ChannelError(ParslError):
    """Base class of channel errors: ``reason``, the underlying exception ``e`` and ``hostname``."""

    def __init__(self, reason: str, e: Any, hostname: str):
        super().__init__(reason, e, hostname)
        self.reason = reason
        self.e = e
        self.hostname = hostname

    def __str__(self) -> str:
        return f"Hostname:{self.hostname}, Reason:{self.reason}"


class _HostError(ChannelError):
    _reason = "channel error"

    def __init__(self, e: Any, hostname: str, port: int | None = None):
        super().__init__(self._reason, e, hostname)
        self.port = port
        self.args = (e, hostname) if port is None else (e, hostname, port)

    def __str__(self) -> str:
        where = self.hostname if self.port is None else f"{self.hostname}, Port:{self.port}"
        cause = f" ({type(self.e).__name__}: {self.e})" if isinstance(self.e, BaseException) else ""
        return f"Hostname:{where}, Reason:{self.reason}{cause}"


class BadHostKeyException(_HostError):
    """The remote host's key could not be verified."""

    _reason = "SSH channel could not be created: the server's host key could not be verified"


class BadScriptPath(_HostError):
    """The channel's script directory cannot be reached on the remote side."""

    _reason = "Inaccessible remote script dir; set script_dir to a directory that exists"


class BadPermsScriptPath(_HostError):
    """The user may not write to the channel's script directory."""

    _reason = "User does not have permission to write to the script_dir"


class AuthException(_HostError):
    """Authentication to the remote host failed."""

    _reason = "Authentication to remote server failed"


class SSHException(_HostError):
    """An SSH session could not be established."""

    _reason = "Error connecting or establishing an SSH session"


class FileExists(ChannelError):
    """A file being transferred would overwrite an existing one."""

    def __init__(self, e: Any, hostname: str, filename: str | None = None):
        super().__init__(f"File name collision in channel transport phase: {filename}", e, hostname)
        self.filename = filename
        self.args = (e, hostname, filename)


class FileCopyException(ChannelError):
    """Copying a file through the channel failed."""

    def __init__(self, e: Any, hostname: str):
        super().__init__(f"File copy failed due to {e}", e, hostname)
        self.args = (e, hostname)
