"""HTTP and HTTPS staging (``parsl.data_provider.http``): download a File's URL for a task.

Downloads stream to disk in 1 MiB chunks with the standard library (``urllib``), follow
redirects, and fail with :class:`~parsl_staging.errors.HTTPStagingError` naming the URL and
the status on any 4xx/5xx answer, a refused connection, a TLS failure or a short body.
HTTPS certificates are checked against the system's trust store, which ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` can point elsewhere; ``verify=`` takes a CA file or directory (or False).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from parsl.data_provider.files import File
from parsl_staging.errors import HTTPStagingError
from parsl_staging.transfer import TransferStaging, remove_partial

if TYPE_CHECKING:
    from parsl.data_provider.data_manager import DataManager

__all__ = ["HTTPInTaskStaging", "HTTPSeparateTaskStaging", "download"]

CHUNK_SIZE = 1 << 20


def _ssl_context(url: str, verify: bool | str) -> Any:
    import ssl

    if verify is True:
        return ssl.create_default_context()
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as e:
        raise HTTPStagingError(url, f"cannot load the CA certificates verify={verify!r}: {e}") from e


def download(file: File, verify: bool | str = True, timeout: float = 60.0) -> None:
    """Stream ``file.url`` to ``file.local_path``; remove the partial file on any failure."""
    import urllib.error
    import urllib.request

    from parsl_staging import __version__

    url = file.url
    dest = file.local_path
    assert dest is not None
    handlers: list[Any] = []
    if file.scheme == "https":
        handlers.append(urllib.request.HTTPSHandler(context=_ssl_context(url, verify)))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        url, headers={"User-Agent": f"parsl-staging/{__version__}", "Accept-Encoding": "identity"}
    )
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        status, reason, final = e.code, str(e.reason), e.geturl()
        e.close()  # an HTTPError holds the open response, which would not pickle as a cause
        where = "" if final in (None, url) else f" (redirected to {final})"
        raise HTTPStagingError(url, f"{reason}{where}", status=status) from None
    except urllib.error.URLError as e:
        raise HTTPStagingError(url, f"cannot connect: {e.reason}") from e
    except (OSError, ValueError) as e:
        raise HTTPStagingError(url, f"{type(e).__name__}: {e}") from e

    received = 0
    try:
        with response:
            expected = response.headers.get("Content-Length")
            buf = memoryview(bytearray(CHUNK_SIZE))
            with open(dest, "wb") as out:
                while True:
                    n = response.readinto(buf)
                    if not n:
                        break
                    out.write(buf[:n])
                    received += n
        if expected is not None and expected.isdigit() and received != int(expected):
            raise HTTPStagingError(url, f"the connection closed after {received} of {expected} bytes")
    except HTTPStagingError:
        remove_partial(dest)
        raise
    except Exception as e:
        remove_partial(dest)
        raise HTTPStagingError(url, f"{type(e).__name__} after {received} bytes: {e}") from e


class _HTTPStaging(TransferStaging):
    schemes = frozenset({"http", "https"})

    def __init__(self, verify: bool | str = True, timeout: float = 60.0) -> None:
        if not isinstance(verify, (bool, str, os.PathLike)):
            raise TypeError(
                f"verify= must be True, False or the path of a CA file or directory, not {verify!r}"
            )
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"timeout= must be a positive number of seconds, not {timeout!r}")
        self.verify = verify if isinstance(verify, bool) else os.fspath(verify)
        self.timeout = timeout

    def fetcher(self, dm: DataManager, executor: str, file: File) -> Any:
        return functools.partial(download, verify=self.verify, timeout=self.timeout)


class HTTPSeparateTaskStaging(_HTTPStaging):
    """Download ``http://`` and ``https://`` Files in a staging task of their own.

    The staging task runs on the app's executor before the app, so the app and the download
    must see the same filesystem (the executor's ``working_dir``, else the run directory).
    Part of ``default_staging``.

    :param verify: True (check certificates against the system store; ``SSL_CERT_FILE`` is
        honoured), False (do not check), or the path of a CA bundle file or directory.
    :param timeout: seconds to wait for the connection or for each read.
    """

    PLUGIN_NAME = "http"


class HTTPInTaskStaging(_HTTPStaging):
    """Download ``http://`` and ``https://`` Files inside the app's own task, on its worker.

    No shared filesystem is needed. Same options as :class:`HTTPSeparateTaskStaging`.
    """

    PLUGIN_NAME = "http_in_task"
    in_task = True
