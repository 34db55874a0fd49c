"""``DataManager``: pick the staging provider for each File a task reads or writes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

from parsl.app.futures import DataFuture
from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.errors import ConfigurationError

if TYPE_CHECKING:
    from parsl.app.python import PythonApp
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.futures import AppFuture

__all__ = ["DataManager", "NoStagingProviderError", "default_staging"]

logger = logging.getLogger(__name__)


class NoStagingProviderError(ConfigurationError, ValueError):
    """No staging provider of the task's executor handles a File's URL scheme.

    Also a ValueError, which is what Parsl raises when an executor cannot stage a file.
    """


def _default_staging_list() -> list[Staging]:
    from parsl.plugins import default_plugin_manager

    return default_plugin_manager().default_staging()


class _DefaultStaging(Sequence[Staging]):
    """``default_staging``: the staging providers every executor uses unless told otherwise.

    Computed from the ``parsl_default_staging`` hook on first use, so installed staging
    plugins (HTTP, FTP, ...) join the list: ``storage_access=default_staging + [extra]``.
    """

    def _items(self) -> list[Staging]:
        return _default_staging_list()

    @overload
    def __getitem__(self, i: int) -> Staging: ...

    @overload
    def __getitem__(self, i: slice) -> list[Staging]: ...

    def __getitem__(self, i: int | slice) -> Staging | list[Staging]:
        return self._items()[i]

    def __len__(self) -> int:
        return len(self._items())

    def __add__(self, other: Iterable[Staging]) -> list[Staging]:
        return self._items() + list(other)

    def __radd__(self, other: Iterable[Staging]) -> list[Staging]:
        return list(other) + self._items()

    def __repr__(self) -> str:
        return repr(self._items())


default_staging: Sequence[Staging] = _DefaultStaging()


class DataManager:
    """Route stage-in and stage-out of Files to the providers of the task's executor."""

    def __init__(self, dfk: DataFlowKernel) -> None:
        self.dfk = dfk
        self._staging_apps: dict[tuple[Callable[..., Any], str], PythonApp[Any]] = {}
        # The kernel's own plugin manager: the same plugins (and PARSL_DISABLE_PLUGINS choices)
        # that the rest of this DataFlowKernel sees.
        plugins = getattr(dfk, "plugins", None)
        self._default = plugins.default_staging() if plugins is not None else _default_staging_list()

    def _providers(self, executor: str) -> Sequence[Staging]:
        ex = self.dfk.executors[executor]
        sa = getattr(ex, "storage_access", None)
        return sa if sa is not None else self._default

    def staging_app(self, func: Callable[..., Any], executor: str) -> PythonApp[Any]:
        """A ``python_app`` of ``func`` bound to this DataFlowKernel and ``executor``.

        For providers that stage in separate tasks; made once per function and executor.
        """
        key = (func, executor)
        app = self._staging_apps.get(key)
        if app is None:
            from parsl.app.app import python_app

            app = self._staging_apps[key] = python_app(func, executors=[executor], data_flow_kernel=self.dfk)
        return app

    def custom_staging(self, executor: str) -> bool:
        """Whether ``executor`` lists its own ``storage_access`` providers.

        With the default providers a local file needs no staging at all; an executor's own
        providers are consulted for every File, local ones included.
        """
        return getattr(self.dfk.executors[executor], "storage_access", None) is not None

    def _find(self, executor: str, file: File, direction: str) -> Staging:
        for p in self._providers(executor):
            ok = p.can_stage_in(file) if direction == "in" else p.can_stage_out(file)
            if ok:
                return p
        raise NoStagingProviderError(
            f"No staging provider of executor {executor!r} can stage {direction} {file.url!r} "
            f"(scheme {file.scheme!r}). Install the staging plugin (pip install 'parslcore[staging]') "
            f"or add a provider for this scheme to the executor's storage_access"
        )

    def optionally_stage_in(
        self, input: Any, func: Callable[..., Any], executor: str
    ) -> tuple[Any, Callable[..., Any]]:
        """Return the input the task should receive and the (possibly wrapped) function.

        Local files pass through; a remote File is replaced by a clean copy that its staging
        provider fills in (``local_path``), either inside the task (``replace_task``) or by a
        separate staging task whose future the task then depends on.
        """
        if isinstance(input, DataFuture):
            fobj = input.file_obj
            if fobj.scheme == "file" and fobj.local_path is None and not self.custom_staging(executor):
                return input, func
            file = fobj.cleancopy()
            new_input = DataFuture(input, file, tid=input.tid)
            staged = self.stage_in(file, new_input, executor)
            if staged is not None:
                return staged, func
            return new_input, self.replace_task(file, func, executor)
        if isinstance(input, File):
            if input.scheme == "file" and input.local_path is None and not self.custom_staging(executor):
                return input, func
            file = input.cleancopy() if input.local_path is None else input
            staged = self.stage_in(file, None, executor)
            if staged is not None:
                return staged, func
            return file, self.replace_task(file, func, executor)
        return input, func

    def stage_in(self, file: File, input: DataFuture | None, executor: str) -> DataFuture | None:
        provider = self._find(executor, file, "in")
        return provider.stage_in(self, executor, file, input)

    def replace_task(self, file: File, func: Callable[..., Any], executor: str) -> Callable[..., Any]:
        provider = self._find(executor, file, "in")
        new = provider.replace_task(self, executor, file, func)
        return new if new is not None else func

    def replace_task_stage_out(
        self, file: File, func: Callable[..., Any], executor: str
    ) -> Callable[..., Any]:
        provider = self._find(executor, file, "out")
        new = provider.replace_task_stage_out(self, executor, file, func)
        return new if new is not None else func

    def stage_out(self, file: File, executor: str, app_fu: AppFuture[Any]) -> AppFuture[Any] | None:
        provider = self._find(executor, file, "out")
        return provider.stage_out(self, executor, file, app_fu)
