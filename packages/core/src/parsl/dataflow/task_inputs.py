"""How the DataFlowKernel prepares a task's inputs: Parsl's special keyword arguments
(``stdout``/``stderr`` AUTO_LOGNAME, ``inputs=``/``outputs=`` staging and DataFutures), the
futures a task depends on, and replacing those futures by their results at launch.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from typing import Any

import parsl
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File
from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["TaskInputs"]

#: argument types that may need staging in
_STAGEABLE = (File, DataFuture)


class TaskInputs:
    """DataFlowKernel methods that stage, gather and unwrap a task's arguments (a mixin)."""

    data_manager: Any
    dependency_resolver: Any
    run_dir: str
    _config: Any
    _shallow: bool

    def _stage_in_args(self, task: TaskRecord, label: str) -> None:
        """Stage in Files and DataFutures passed as positional arguments (as ``inputs=`` are)."""
        func = task.func
        staged = []
        for a in task.args:
            if isinstance(a, _STAGEABLE):
                a, func = self.data_manager.optionally_stage_in(a, func, label)
            staged.append(a)
        task.args = tuple(staged)
        task.func = func

    def _prepare_special_kwargs(self, task: TaskRecord, kwargs: dict[str, Any], label: str) -> None:
        """Handle stdout/stderr AUTO_LOGNAME, input staging and output DataFutures."""
        staging = not kwargs.get("_parsl_staging_inhibit")
        for kw in ("stdout", "stderr"):
            spec = kwargs.get(kw)
            if spec is parsl.AUTO_LOGNAME or (
                spec is not None and spec == parsl.AUTO_LOGNAME and not isinstance(spec, bool)
            ):
                spec = kwargs[kw] = self._auto_logname(task, kw)
                # the generated path differs per task: it must not change the memo key
                if kw not in task.ignore_for_cache:
                    task.ignore_for_cache = [*task.ignore_for_cache, kw]
            if isinstance(spec, File):  # as in Parsl, fut.stdout/stderr is then a DataFuture
                if staging and (spec.scheme != "file" or self.data_manager.custom_staging(label)):
                    self._stage_out_std_stream(task, kw, spec, label)
                else:
                    std = task.app_fu._std_futures
                    if std is None:
                        std = task.app_fu._std_futures = {}
                    std[kw] = DataFuture(task.app_fu, spec, tid=task.id)
        if staging:
            for k, v in kwargs.items():
                # Files passed as other keyword arguments are staged in like inputs=[...]
                if isinstance(v, _STAGEABLE) and k not in ("inputs", "outputs", "stdout", "stderr"):
                    kwargs[k], task.func = self.data_manager.optionally_stage_in(v, task.func, label)
        inputs = kwargs.get("inputs") if staging else None
        if inputs:
            func = task.func
            staged = []
            for item in inputs:
                new_item, func = self.data_manager.optionally_stage_in(item, func, label)
                staged.append(new_item)
            kwargs["inputs"] = staged
            task.func = func
        outputs = kwargs.get("outputs")
        if outputs:
            func = task.func
            app_fu = task.app_fu
            dfs = []
            task_outputs: list[Any] | None = None
            custom = self.data_manager.custom_staging(label)
            for i, f in enumerate(outputs):
                # _parsl_staging_inhibit (a staging provider's own helper task): no staging
                if isinstance(f, File) and staging and (f.scheme != "file" or custom):
                    # staging works on (and may set local_path of) a clean copy that the task
                    # sees; the DataFuture keeps the user's File unchanged
                    f_copy = f.cleancopy()
                    if task_outputs is None:
                        task_outputs = kwargs["outputs"] = list(outputs)
                    task_outputs[i] = f_copy
                    func = self.data_manager.replace_task_stage_out(f_copy, func, label)
                    stage_fut = self.data_manager.stage_out(f_copy, label, app_fu)
                    dfs.append(DataFuture(stage_fut if stage_fut is not None else app_fu, f, tid=task.id))
                elif isinstance(f, File):
                    dfs.append(DataFuture(app_fu, f, tid=task.id))
                elif isinstance(f, DataFuture):
                    dfs.append(DataFuture(app_fu, f.file_obj, tid=task.id))
                elif isinstance(f, (str, os.PathLike)):
                    dfs.append(DataFuture(app_fu, File(f), tid=task.id))
                else:
                    raise TypeError(f"outputs=[...] item {f!r} is a {type(f).__name__}; use File(path)")
            task.func = func
            app_fu._outputs = dfs
            task.outputs = dfs

    def _stage_out_std_stream(self, task: TaskRecord, kind: str, spec: File, label: str) -> None:
        """stdout=/stderr= naming a remote File (e.g. a ``zip:`` URL): the app writes a local
        file that the staging provider then moves; ``fut.stdout`` becomes its DataFuture."""
        f_copy = spec.cleancopy()
        task.kwargs[kind] = f_copy
        task.func = self.data_manager.replace_task_stage_out(f_copy, task.func, label)
        app_fu = task.app_fu
        stage_fut = self.data_manager.stage_out(f_copy, label, app_fu)
        std = app_fu._std_futures
        if std is None:
            std = app_fu._std_futures = {}
        std[kind] = DataFuture(stage_fut if stage_fut is not None else app_fu, spec, tid=task.id)
        if kind not in task.ignore_for_cache:
            task.ignore_for_cache = [*task.ignore_for_cache, kind]

    def _auto_logname(self, task: TaskRecord, kind: str) -> str:
        autopath = self._config.std_autopath
        if autopath is not None:
            return autopath(task, kind)
        logdir = os.path.join(self.run_dir, "task_logs", f"{task.id // 10000:04d}")
        os.makedirs(logdir, exist_ok=True)
        label = task.kwargs.get("label")
        suffix = "" if label is None else f"_{label}"
        return os.path.join(logdir, f"task_{task.id:04d}_{task.func_name}{suffix}.{kind}")

    def _gather_deps(self, task: TaskRecord) -> list[Future]:
        deps: list[Future] = []
        if self._shallow:
            for a in task.args:
                if isinstance(a, Future):
                    deps.append(a)
            kwargs = task.kwargs
            if kwargs:
                for k, v in kwargs.items():
                    if isinstance(v, Future):
                        deps.append(v)
                    elif k == "inputs" and isinstance(v, (list, tuple)):
                        deps.extend(x for x in v if isinstance(x, Future))
        else:
            gather = self.dependency_resolver.traverse_to_gather
            for a in task.args:
                deps.extend(gather(a))
            for v in task.kwargs.values():
                deps.extend(gather(v))
        return deps

    def _unwrap_deps(self, task: TaskRecord) -> None:
        if self._shallow:
            task.args = tuple(a.result() if isinstance(a, Future) else a for a in task.args)
            kwargs = task.kwargs
            for k, v in kwargs.items():
                if isinstance(v, Future):
                    kwargs[k] = v.result()
                elif k == "inputs" and isinstance(v, (list, tuple)):
                    kwargs[k] = [x.result() if isinstance(x, Future) else x for x in v]
        else:
            unwrap = self.dependency_resolver.traverse_to_unwrap
            task.args = tuple(unwrap(a) for a in task.args)
            task.kwargs = {k: unwrap(v) for k, v in task.kwargs.items()}
