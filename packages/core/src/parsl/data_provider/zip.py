"""``ZipFileStaging``: Files inside zip archives, named ``zip:/path/to/archive.zip/member``.

Stage-out runs inside the task: the app writes an ordinary temporary file, which is then
added to the archive (created if missing) under an exclusive ``flock`` of the archive, so
tasks in any number of threads or processes can append to the same archive. Stage-in
extracts the member to a temporary file for the duration of the task. The archive must be
reachable from wherever the task runs.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.errors import ParslError
from parsl.utils import RepresentationMixin

if TYPE_CHECKING:
    from parsl.data_provider.data_manager import DataManager

__all__ = ["ZipAuthorityError", "ZipFileStaging", "zip_path_split"]


class ZipAuthorityError(ParslError):
    """A ``zip:`` URL has an authority (``zip://host/...``), which zip staging cannot honour."""

    def __init__(self, file: File) -> None:
        super().__init__(file)
        self.file = file

    def __str__(self) -> str:
        return (
            f"zip: URLs name a local archive and take no authority section, but {self.file.url!r} "
            f"has {self.file.netloc!r}; write zip:/path/to/archive.zip/member"
        )


def zip_path_split(path: str) -> tuple[str, str]:
    """Split ``/dir/archive.zip/a/b.txt`` into ``('/dir/archive.zip', 'a/b.txt')``.

    The archive is the first path component ending in ``.zip``.
    """
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.endswith(".zip") and i < len(parts) - 1:
            member = "/".join(parts[i + 1 :])
            if member:
                return "/".join(parts[: i + 1]), member
    raise ValueError(
        f"zip path {path!r} names no member inside a .zip archive; use /path/to/archive.zip/member"
    )


def _is_zip(file: File) -> bool:
    if file.scheme != "zip":
        return False
    if file.netloc:
        raise ZipAuthorityError(file)
    return True


def _add_to_zip(zip_path: str, member: str, local: str) -> None:
    os.makedirs(os.path.dirname(zip_path) or ".", exist_ok=True)
    with open(zip_path, "a+b") as lock_handle:
        try:
            import fcntl

            fcntl.flock(lock_handle, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        # an empty (just created) file becomes a fresh archive
        mode = "a" if os.path.getsize(zip_path) else "w"
        with zipfile.ZipFile(zip_path, mode=mode) as z:
            z.write(local, arcname=member)


def _share_local_path(file: File, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Give the task's own copy of ``file`` the local path just chosen for ``file``.

    In a thread they are one object; an executor that serializes the function apart from
    its arguments (HTEX) hands the task a second File with the same ``uu_id``.
    """

    def visit(value: Any) -> None:
        if isinstance(value, File):
            if value is not file and value.uu_id == file.uu_id:
                value.local_path = file.local_path
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    for a in args:
        visit(a)
    for v in kwargs.values():
        visit(v)


def _run_staging_out(func: Callable[..., Any], file: File, *args: Any, **kwargs: Any) -> Any:
    zip_path, member = zip_path_split(file.path)
    tmpdir = tempfile.mkdtemp(prefix="parsl-zip-out-")
    file.local_path = os.path.join(tmpdir, os.path.basename(member))
    _share_local_path(file, args, kwargs)
    try:
        result = func(*args, **kwargs)
        _add_to_zip(zip_path, member, file.local_path)
        return result
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _run_staging_in(func: Callable[..., Any], file: File, *args: Any, **kwargs: Any) -> Any:
    zip_path, member = zip_path_split(file.path)
    tmpdir = tempfile.mkdtemp(prefix="parsl-zip-in-")
    try:
        with zipfile.ZipFile(zip_path) as z:
            file.local_path = z.extract(member, path=tmpdir)
        _share_local_path(file, args, kwargs)
        return func(*args, **kwargs)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


class ZipFileStaging(Staging, RepresentationMixin):
    """Stage Files named ``zip:/path/to/archive.zip/member`` in and out, inside the task."""

    PLUGIN_NAME = "zip"

    def can_stage_in(self, file: File) -> bool:
        return _is_zip(file)

    def can_stage_out(self, file: File) -> bool:
        return _is_zip(file)

    def replace_task(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any]:
        return functools.update_wrapper(functools.partial(_run_staging_in, func, file), func)

    def replace_task_stage_out(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any]:
        return functools.update_wrapper(functools.partial(_run_staging_out, func, file), func)
