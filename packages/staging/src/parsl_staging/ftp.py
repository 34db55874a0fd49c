"""FTP staging (``parsl.data_provider.ftp``): download, and upload, Files named ``ftp://``.

``ftp://[user[:password]@]host[:port]/dir/name``: the port in the URL is used (21 when
absent); without a user in the URL the login comes from ``~/.netrc`` for that host, else
anonymous. Transfers are binary, passive mode, streamed in 1 MiB blocks. A File with an
``ftp://`` URL in ``outputs=[...]`` is uploaded after the app wrote it (the directory must
exist on the server). Failures raise :class:`~parsl_staging.errors.FTPStagingError` naming
the URL (password hidden).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from parsl.data_provider.files import File
from parsl_staging.errors import FTPStagingError
from parsl_staging.transfer import TransferStaging, remove_partial

if TYPE_CHECKING:
    import ftplib

    from parsl.data_provider.data_manager import DataManager

__all__ = ["FTPInTaskStaging", "FTPSeparateTaskStaging", "download", "upload"]

BLOCK_SIZE = 1 << 20


def _credentials(host: str, user: str | None, password: str | None) -> tuple[str, str]:
    if user:
        return unquote(user), unquote(password or "")
    try:
        import netrc

        found = netrc.netrc().authenticators(host)
    except Exception:  # no ~/.netrc, or one that does not parse: anonymous
        found = None
    if found:
        return found[0] or "anonymous", found[2] or ""
    return "anonymous", "anonymous@"


def _connect(url: str, timeout: float) -> tuple[ftplib.FTP, str, str]:
    """Log in to the URL's server; return the connection, the directory and the file name."""
    import ftplib

    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise FTPStagingError(url, "the URL names no host")
    try:
        port = parts.port or 21
    except ValueError as e:
        raise FTPStagingError(url, f"bad port: {e}") from e
    path = unquote(parts.path)
    directory, name = os.path.dirname(path), os.path.basename(path)
    if not name:
        raise FTPStagingError(url, "the URL path names no file")
    user, password = _credentials(host, parts.username, parts.password)
    ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(host, port)
        ftp.login(user, password)
        if directory:
            ftp.cwd(directory)
    except BaseException:
        _close(ftp)
        raise
    return ftp, directory, name


def _close(ftp: ftplib.FTP) -> None:
    try:
        ftp.quit()
    except Exception:
        ftp.close()


def download(file: File, timeout: float = 60.0) -> None:
    """Fetch ``file.url`` into ``file.local_path``; remove the partial file on failure."""
    import ftplib

    dest = file.local_path
    assert dest is not None
    try:
        ftp, _, name = _connect(file.url, timeout)
        try:
            with open(dest, "wb") as out:
                ftp.retrbinary(f"RETR {name}", out.write, blocksize=BLOCK_SIZE)
        finally:
            _close(ftp)
    except FTPStagingError:
        remove_partial(dest)
        raise
    except (*ftplib.all_errors, EOFError) as e:
        remove_partial(dest)
        raise FTPStagingError(file.url, f"download: {_describe(e)}") from e


def upload(file: File, timeout: float = 60.0) -> None:
    """Store ``file.local_path`` at ``file.url``."""
    import ftplib

    src = file.local_path
    assert src is not None
    try:
        source = open(src, "rb")
    except OSError as e:
        raise FTPStagingError(file.url, f"the app did not write {src!r}: {e}") from e
    with source:
        try:
            ftp, _, name = _connect(file.url, timeout)
            try:
                ftp.storbinary(f"STOR {name}", source, blocksize=BLOCK_SIZE)
            finally:
                _close(ftp)
        except (*ftplib.all_errors, EOFError) as e:
            raise FTPStagingError(file.url, f"upload: {_describe(e)}") from e


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    return text if text else type(e).__name__


class _FTPStaging(TransferStaging):
    schemes = frozenset({"ftp"})

    def __init__(self, timeout: float = 60.0) -> None:
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"timeout= must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout

    def fetcher(self, dm: DataManager, executor: str, file: File) -> Any:
        return functools.partial(download, timeout=self.timeout)

    def sender(self, dm: DataManager, executor: str, file: File) -> Any:
        return functools.partial(upload, timeout=self.timeout)


class FTPSeparateTaskStaging(_FTPStaging):
    """Transfer ``ftp://`` Files in staging tasks of their own on the app's executor.

    Stage-in runs before the app, stage-out after it; the app's workers and the staging tasks
    must share a filesystem. Part of ``default_staging``.

    :param timeout: seconds to wait for the connection or for each reply.
    """

    PLUGIN_NAME = "ftp"


class FTPInTaskStaging(_FTPStaging):
    """Transfer ``ftp://`` Files inside the app's own task, on its worker (no shared filesystem)."""

    PLUGIN_NAME = "ftp_in_task"
    in_task = True
