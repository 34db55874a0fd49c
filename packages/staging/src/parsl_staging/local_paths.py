"""Where staged files land on the executor's side: one private directory per staged File.

``<working_dir>/staging/<id>/<name>`` when the executor has a ``working_dir``, else
``<run_dir>/staging/<id>/<name>``. The ``<id>`` comes from the File's own uuid (the kernel
stages a fresh copy of the user's File per task), so two tasks staging different URLs with
the same basename never write the same path, while the file keeps its own name (and
extension) for the app.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from parsl.data_provider.data_manager import DataManager
    from parsl.data_provider.files import File

__all__ = ["assign_local_path", "local_name", "staging_root"]


def staging_root(dm: DataManager, executor: str) -> str:
    """The directory that holds this executor's staged files."""
    ex = dm.dfk.executors[executor]
    working_dir = getattr(ex, "working_dir", None)
    if working_dir:
        return os.path.join(working_dir, "staging")
    return os.path.join(os.path.abspath(dm.dfk.run_dir), "staging")


def local_name(file: File) -> str:
    """The file name a staged copy of ``file`` gets (its URL's last path segment, decoded)."""
    name = unquote(file.filename).replace("/", "_")
    if name in ("", ".", ".."):
        raise ValueError(
            f"Cannot stage {file.url!r}: its URL path names no file (it ends in '/' or "
            f"is empty); name the file itself, e.g. {file.url.rstrip('/')}/data.txt"
        )
    return name


def assign_local_path(file: File, dm: DataManager, executor: str) -> str:
    """Set (once) and return ``file.local_path``, a path private to this staged File."""
    if file.local_path is None:
        file.local_path = os.path.join(staging_root(dm, executor), file.uu_id.hex[:16], local_name(file))
    return file.local_path
