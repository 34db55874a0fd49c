"""Running a transfer as its own task or inside the app's task, for any protocol.

A protocol module supplies picklable callables ``fetch(file)`` (remote -> ``file.local_path``)
and ``send(file)`` (``file.local_path`` -> remote); :class:`TransferStaging` turns them into
either separate staging tasks on the app's executor (needs a filesystem shared by the
executor's workers) or wrappers that transfer inside the app's own task (works anywhere).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.utils import RepresentationMixin
from parsl_staging.local_paths import assign_local_path

if TYPE_CHECKING:
    from parsl.app.futures import DataFuture
    from parsl.data_provider.data_manager import DataManager

logger = logging.getLogger(__name__)

__all__ = ["TransferStaging", "download_task", "remove_partial", "upload_task"]

Transfer = Callable[[File], None]


def remove_partial(path: str) -> None:
    """Remove what a failed download left at ``path``; the download's own error is what matters."""
    try:
        os.unlink(path)
    except OSError as e:
        logger.debug("Could not remove the partial download %s: %s", path, e)


def _make_parent(file: File) -> None:
    parent = os.path.dirname(file.local_path or "")
    if parent:
        os.makedirs(parent, exist_ok=True)


def download_task(fetch: Transfer, parent_fut: Any = None, outputs: Any = ()) -> None:
    """Body of a separate stage-in task: fetch ``outputs[0]`` to its local path."""
    file = outputs[0]
    _make_parent(file)
    fetch(file)


def upload_task(send: Transfer, file: File) -> None:
    """Body of a separate stage-out task: ``file`` is the app's output, now written."""
    send(file)


def _fetch_then_run(fetch: Transfer, file: File, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _make_parent(file)
    fetch(file)
    return func(*args, **kwargs)


def _run_then_send(send: Transfer, file: File, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _make_parent(file)
    result = func(*args, **kwargs)
    send(file)
    return result


def _make_dir_then_run(file: File, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _make_parent(file)
    return func(*args, **kwargs)


def _wrap(body: Callable[..., Any], func: Callable[..., Any], *bound: Any) -> Callable[..., Any]:
    # a partial of a module-level function pickles by reference, so the wrapped task can go to
    # HTEX workers; the File's local_path is set before the task is serialized
    return functools.update_wrapper(functools.partial(body, *bound, func), func)


class TransferStaging(Staging, RepresentationMixin):
    """Base of the protocol providers: pick local paths, run transfers as tasks or in-task.

    Subclasses set ``schemes`` and ``in_task`` and implement :meth:`fetcher` (and
    :meth:`sender` when they can stage out).
    """

    schemes: ClassVar[frozenset[str]] = frozenset()
    in_task: ClassVar[bool] = False

    def fetcher(self, dm: DataManager, executor: str, file: File) -> Transfer:
        """A picklable callable that downloads ``file`` to ``file.local_path``."""
        raise NotImplementedError

    def sender(self, dm: DataManager, executor: str, file: File) -> Transfer | None:
        """A picklable callable that uploads ``file.local_path`` to ``file``'s URL, or None."""
        return None

    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def can_stage_out(self, file: File) -> bool:
        return file.scheme in self.schemes and type(self).sender is not TransferStaging.sender

    # -- stage in
    def stage_in(self, dm: DataManager, executor: str, file: File, parent_fut: Any) -> DataFuture | None:
        assign_local_path(file, dm, executor)
        if self.in_task:
            return None
        app = dm.staging_app(download_task, executor)
        fut = app(
            self.fetcher(dm, executor, file),
            parent_fut=parent_fut,
            outputs=[file],
            _parsl_staging_inhibit=True,
        )
        return fut.outputs[0]

    def replace_task(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any] | None:
        if not self.in_task:
            return None
        assign_local_path(file, dm, executor)
        return _wrap(_fetch_then_run, func, self.fetcher(dm, executor, file), file)

    # -- stage out
    def replace_task_stage_out(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any] | None:
        assign_local_path(file, dm, executor)
        if self.in_task:
            send = self.sender(dm, executor, file)
            assert send is not None
            return _wrap(_run_then_send, func, send, file)
        # the app writes the file itself; its private directory must exist first
        return _wrap(_make_dir_then_run, func, file)

    def stage_out(self, dm: DataManager, executor: str, file: File, app_fu: Any) -> Any:
        assign_local_path(file, dm, executor)
        if self.in_task:
            return None
        from parsl.app.futures import DataFuture

        app = dm.staging_app(upload_task, executor)
        # depend on the app through a DataFuture of the file: the task receives the File, not
        # the app's (possibly large) result
        written = DataFuture(app_fu, file, tid=getattr(app_fu, "tid", None))
        return app(self.sender(dm, executor, file), written, _parsl_staging_inhibit=True)
