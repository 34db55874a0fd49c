"""``parsl.File``: a location-independent reference to a file used by apps."""

from __future__ import annotations

import os
import random
import uuid
from typing import Any
from urllib.parse import urlparse

__all__ = ["File"]


def _uuid4() -> uuid.UUID:
    """A random (version 4) UUID without ``os.urandom``.

    ``uuid.uuid4()`` reads ``os.urandom``, which releases the GIL: with busy worker threads
    each File then waited for the GIL again (~0.8 ms apiece when submitting 10,000 staged
    Files). ``random`` is reseeded in forked children, and the ids only need to be unique.
    """
    return uuid.UUID(int=random.getrandbits(128), version=4)


class File:
    """A file an app reads or writes, named by a path or a URL.

    ``File('data/x.txt')`` and ``File('file:///abs/x.txt')`` are local; remote schemes
    (``http``, ``https``, ``ftp``, ``globus``, ``rsync``, ...) are staged in or out by the
    staging provider registered for the scheme. Inside an app, ``filepath`` (or ``str(f)``
    or ``os.fspath(f)``) is the path to open.
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        if isinstance(url, File):
            url = url.url
        if not isinstance(url, (str, os.PathLike)):
            raise TypeError(f"File() takes a path or URL string, not {type(url).__name__}")
        self.url: str = os.fspath(url)
        parsed = urlparse(self.url)
        self.scheme = parsed.scheme if parsed.scheme else "file"
        self.netloc = parsed.netloc
        self.path = parsed.path
        self.filename = os.path.basename(self.path)
        self.local_path: str | None = None
        self.uu_id = _uuid4()
        self.timestamp: float | None = None
        self.size: int | None = None
        self.md5sum: str | None = None

    def cleancopy(self) -> File:
        """Return a copy of this File without any staging state (no local_path)."""
        return File(self.url)

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        content = (
            f"{type(self).__name__} at 0x{id(self):x} url={self.url} scheme={self.scheme} "
            f"netloc={self.netloc} path={self.path} filename={self.filename}"
        )
        if self.local_path is not None:
            content += f" local_path={self.local_path}"
        return f"<{content}>"

    def __fspath__(self) -> str:
        return self.filepath

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()

    @property
    def filepath(self) -> str:
        """The path apps should open: ``local_path`` when staged, else the path of a local URL."""
        if self.local_path is not None:
            return self.local_path
        if self.scheme == "file":
            return self.path
        raise ValueError(
            f"No local_path set for {self.url!r}: a {self.scheme} File must be staged in "
            f"(pass it through inputs=[...] of an app) before it has a local path"
        )
