"""``AppFuture``: the future an app call returns (``parsl.dataflow.futures``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from operator import getitem
from typing import Any, TypeVar, Union

from parsl.app.futures import DataFuture
from parsl.dataflow.lightfuture import LightFuture
from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["AppFuture", "StdStreamSpec"]

_R = TypeVar("_R")

#: what an app call passed as ``stdout=``/``stderr=``: a path, or a ``(path, mode)`` pair
StdStreamSpec = Union[str, "os.PathLike[str]", tuple[str, str]]


def _getattr(obj: Any, name: str) -> Any:
    return getattr(obj, name)


class AppFuture(LightFuture[_R]):
    """The future of one app invocation.

    Beyond ``concurrent.futures.Future`` it carries the task: ``tid``, ``task_record``,
    ``outputs`` (DataFutures of the files declared in ``outputs=``), ``stdout``/``stderr``
    and ``task_status()``. ``fut[key]`` and ``fut.attr`` return new futures for
    ``result[key]`` / ``result.attr`` (computed on the DataFlowKernel's internal executor).
    """

    #: DataFutures of the task's ``outputs=`` Files (set only for tasks that have some)
    _outputs: Sequence[DataFuture] = ()

    def __init__(self, task_record: TaskRecord) -> None:
        # no Future.__init__: LightFuture makes its condition and lists only when first needed
        self.task_record = task_record

    @property
    def outputs(self) -> Sequence[DataFuture]:
        return self._outputs

    #: DataFutures of stdout/stderr Files that are staged out (set only for those tasks)
    _std_futures: dict[str, DataFuture] | None = None

    @property
    def stdout(self) -> StdStreamSpec | DataFuture | None:
        std = self._std_futures
        if std is not None and "stdout" in std:
            return std["stdout"]
        return self.task_record.kwargs.get("stdout")

    @property
    def stderr(self) -> StdStreamSpec | DataFuture | None:
        std = self._std_futures
        if std is not None and "stderr" in std:
            return std["stderr"]
        return self.task_record.kwargs.get("stderr")

    @property
    def tid(self) -> int:
        return self.task_record.id

    def cancel(self) -> bool:
        """Cancel the task if it has not started; True if it will never run.

        A cancelled AppFuture is ``cancelled()``, its ``result()`` raises
        ``concurrent.futures.CancelledError`` and tasks depending on it fail with
        DependencyError. A task already running (or already handed to an executor that
        cannot withdraw it) is not interrupted: ``cancel()`` returns False and it finishes
        normally.
        """
        dfk = self.task_record.dfk
        if dfk is None:
            return super().cancel()
        return dfk.cancel_task(self.task_record)

    def task_status(self) -> str:
        """The task's state name, e.g. ``'pending'``, ``'launched'``, ``'exec_done'``."""
        return self.task_record.status.name

    def __getitem__(self, key: Any) -> AppFuture[Any]:
        return self.task_record.dfk.submit_internal(getitem, (self, key))

    def __getattr__(self, name: str) -> AppFuture[Any]:
        # Only reached for attributes AppFuture does not have: lift them onto the result.
        if name.startswith("_"):
            raise AttributeError(name)
        return self.task_record.dfk.submit_internal(_getattr, (self, name))

    def __repr__(self) -> str:
        state = self._state.lower()
        try:
            tr = self.task_record
            func_name = tr.func_name
            tid = tr.id
        except Exception:  # pragma: no cover - repr must never raise
            return super().__repr__()
        extra = ""
        if state == "finished":
            if self._exception is not None:
                extra = f" raised {type(self._exception).__name__}"
            else:
                extra = f" returned {type(self._result).__name__}"
        return f"<AppFuture at 0x{id(self):x} for task {tid} ({func_name}) state={state}{extra}>"
