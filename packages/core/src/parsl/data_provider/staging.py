"""The staging provider interface (``parsl.data_provider.staging``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from parsl.app.futures import DataFuture
    from parsl.data_provider.data_manager import DataManager
    from parsl.data_provider.files import File
    from parsl.dataflow.futures import AppFuture

__all__ = ["Staging"]


class Staging:
    """Move a :class:`File` between where it lives and where a task runs.

    A staging provider says which files it handles (``can_stage_in`` / ``can_stage_out``,
    usually by URL scheme) and then either submits a separate staging task
    (``stage_in`` / ``stage_out`` return a future) or wraps the app so the transfer happens
    inside the task (``replace_task`` / ``replace_task_stage_out`` return a new callable).
    Executors list the providers they use in ``storage_access``; the default list comes
    from the ``parsl_default_staging`` hook. A minimal plugin::

        from parsl import hookimpl
        from parsl.data_provider.staging import Staging

        class CopyFromShare(Staging):
            PLUGIN_NAME = "share"

            def can_stage_in(self, file):
                return file.scheme == "share"

            def replace_task(self, dm, executor, file, func):
                import functools, shutil
                def wrapper(*args, **kwargs):
                    shutil.copy("/share" + file.path, file.filename)
                    file.local_path = file.filename
                    return func(*args, **kwargs)
                return functools.update_wrapper(wrapper, func)

        @hookimpl
        def parsl_register_staging_providers():
            return [CopyFromShare]
    """

    PLUGIN_NAME: ClassVar[str] = ""

    def can_stage_in(self, file: File) -> bool:
        """Whether this provider can stage ``file`` in."""
        return False

    def can_stage_out(self, file: File) -> bool:
        """Whether this provider can stage ``file`` out."""
        return False

    def stage_in(
        self, dm: DataManager, executor: str, file: File, parent_fut: DataFuture | None
    ) -> DataFuture | None:
        """Start a separate stage-in task; return a DataFuture that completes when done, or None.

        ``parent_fut`` is the DataFuture the file came in (the stage-in task must wait for
        it), or None for a plain File.
        """
        return None

    def stage_out(
        self, dm: DataManager, executor: str, file: File, app_fu: AppFuture[Any]
    ) -> AppFuture[Any] | None:
        """Start a stage-out task that runs after ``app_fu``; return its future, or None."""
        return None

    def replace_task(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any] | None:
        """Return a wrapper of ``func`` that stages ``file`` in inside the task, or None."""
        return None

    def replace_task_stage_out(
        self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]
    ) -> Callable[..., Any] | None:
        """Return a wrapper of ``func`` that stages ``file`` out inside the task, or None."""
        return None
