"""The DataFlowKernel: turns app calls into tasks and runs each when its inputs are ready.

Dependencies are counted with future callbacks (nothing polls); a task with no pending
inputs goes to its executor from the thread that made it ready. The per-task path
allocates one record and one future, logs nothing, and calls plugins only when some
plugin observes task states.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import os
import random
import threading
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from functools import partial
from typing import Any, Callable, Sequence

import parsl
from parsl.app.errors import RemoteExceptionWrapper
from parsl.app.futures import DataFuture
from parsl.config import Config
from parsl.data_provider.data_manager import DataManager
from parsl.data_provider.files import File
from parsl.dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER
from parsl.dataflow.errors import DependencyError, JoinError
from parsl.dataflow.futures import AppFuture
from parsl.dataflow.memoization import BasicMemoizer
from parsl.dataflow.rundirs import make_rundir
from parsl.dataflow.states import FINAL_FAILURE_STATES, FINAL_STATES, States
from parsl.dataflow.taskrecord import TaskRecord
from parsl.dataflow.tasklog import TaskEventLog
from parsl.errors import ConfigurationError, NoDataFlowKernelError
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor
from parsl.plugins import ParslPlugins, new_plugin_manager
from parsl.version import VERSION

__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]

logger = logging.getLogger(__name__)

INTERNAL_EXECUTOR = "_parsl_internal"

#: argument types that may need staging in
_STAGEABLE = (File, DataFuture)


class ConfigAlreadyLoadedError(ConfigurationError, RuntimeError):
    """``parsl.load()`` was called while another configuration is loaded."""


class UnknownExecutorError(ConfigurationError, ValueError):
    """An app asked for an executor label the loaded Config does not have."""


class DataFlowKernel:
    """Track app futures, resolve their dependencies and hand ready tasks to executors."""

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            config = Config()
        if isinstance(config, dict):
            raise ConfigurationError("Expected a parsl.config.Config, received a dict; build one with "
                                     "Config(**your_dict)")
        if not isinstance(config, Config):
            raise ConfigurationError(f"Expected a parsl.config.Config, received {type(config).__name__}")
        if not config.executors:
            raise ConfigurationError("Config(executors=[]) has no executors; add at least one, "
                                     "e.g. executors=[ThreadPoolExecutor()]")
        self.cleanup_called = False
        self._config = config
        self.executors: dict[str, ParslExecutor] = {}
        self._user_labels: list[str] = []
        self.job_status_poller: Any = None
        self._events: TaskEventLog | None = None
        self.memoizer: Any = None
        self.run_dir = make_rundir(config.run_dir)
        self._remove_log_handler: Callable[[], None] | None = None
        if config.initialize_logging is True:
            level = getattr(logging, os.environ.get("PARSL_LOG_LEVEL", "INFO").upper(), logging.INFO)
            self._remove_log_handler = parsl.set_file_logger(os.path.join(self.run_dir, "parsl.log"),
                                                             level=level)
        elif config.initialize_logging is not False:
            # a log configuration object: it sets logging up and returns how to undo it
            import pathlib
            log_config = config.initialize_logging
            if getattr(log_config, "uuid", None) is not None:
                # a parsl.logconfigs.LogConfig: applied once per process, however many users
                from parsl.logconfigs.base import oneshot_initialize_logging, oneshot_uninitialize_logging
                oneshot_initialize_logging(log_config=log_config, log_dir=pathlib.Path(self.run_dir),
                                           log_name="parsl")
                self._remove_log_handler = partial(oneshot_uninitialize_logging, log_config=log_config)
            else:
                undo = log_config.initialize_logging(log_dir=pathlib.Path(self.run_dir), log_name="parsl")
                self._remove_log_handler = undo if callable(undo) else None
        try:
            self._start(config)
        except BaseException:
            self._abort_start()
            raise

    def _start(self, config: Config) -> None:
        self.run_id = str(uuid.uuid4())
        self.time_began = time.time()
        self.time_completed: float | None = None
        logger.info("Parsl version %s (parslcore); run %s in %s", VERSION, self.run_id, self.run_dir)
        logger.debug("Config: %r", config)

        self.task_count = 0
        self._task_ids = itertools.count()
        self.tasks: dict[int, TaskRecord] = {}
        self.tasks_completed_count = 0
        self.tasks_failed_count = 0
        self.tasks_dep_fail_count = 0
        self.tasks_memo_completed_count = 0
        self._count_lock = threading.Lock()
        self._launch_tl = threading.local()
        self._lock = threading.Lock()
        self._all_done = threading.Condition(self._lock)
        self._garbage_collect = config.garbage_collect
        self._events = TaskEventLog()
        self._log_event = self._events.record if self._events.enabled else None

        observers = list(config.observers)
        if config.monitoring is not None:
            observers.append(config.monitoring)
        self.plugins: ParslPlugins = new_plugin_manager(observers)
        self._observe = self.plugins.observes_tasks
        # Per-task DEBUG records (with parsl.task / parsl.app_name extras) only when asked for.
        self._debug = logger.isEnabledFor(logging.DEBUG)

        resolver = config.dependency_resolver or SHALLOW_DEPENDENCY_RESOLVER
        self.dependency_resolver = resolver
        self._shallow = resolver is SHALLOW_DEPENDENCY_RESOLVER

        if config.memoizer is not None:
            self.memoizer = config.memoizer
        else:
            self.memoizer = BasicMemoizer(checkpoint_files=config.checkpoint_files,
                                          checkpoint_period=config.checkpoint_period,
                                          checkpoint_mode=config.checkpoint_mode)
            self.memoizer._from_config = True
        self.memoizer.start(dfk=self, memoize=config.app_cache, checkpoint_files=config.checkpoint_files,
                            run_dir=self.run_dir)
        self._memoize = config.app_cache

        self.data_manager = DataManager(self)
        self._internal = ThreadPoolExecutor(label=INTERNAL_EXECUTOR,
                                            max_threads=config.internal_tasks_max_threads)
        self.add_executors([self._internal])
        self._start_scaling()
        self.add_executors(config.executors)

        atexit.register(self.atexit_cleanup)
        self.plugins.dfk_started(self)

    def _abort_start(self) -> None:
        """Undo a partly built DataFlowKernel whose construction raised."""
        self.cleanup_called = True
        logger.error("DataFlowKernel failed to start; releasing what was started", exc_info=True)
        atexit.unregister(self.atexit_cleanup)
        for step in (lambda: self.memoizer is not None and self.memoizer.close(),
                     lambda: self.job_status_poller is not None and self.job_status_poller.close(),
                     *[(lambda ex=ex: ex.shutdown()) for ex in self.executors.values()],
                     lambda: self._events is not None and self._events.close()):
            try:
                step()
            except Exception:
                logger.exception("Error while releasing a DataFlowKernel that failed to start")
        if self._remove_log_handler is not None:
            self._remove_log_handler()
            self._remove_log_handler = None

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> Config:
        """The Config this DataFlowKernel runs with."""
        return self._config

    def __enter__(self) -> "DataFlowKernel":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        mode = self._config.exit_mode
        logger.debug("Exiting the context manager, exit_mode=%s", mode)
        if mode == "cleanup":
            self.cleanup()
        elif mode == "wait":
            if exc_type is None:
                self.wait_for_current_tasks()
            else:
                logger.info("Exception in the with-block: cleaning up without waiting for tasks")
            self.cleanup()
        # mode == "skip": leave the DataFlowKernel running

    # --------------------------------------------------------------- executors
    def add_executors(self, executors: Sequence[ParslExecutor]) -> None:
        for ex in executors:
            if ex.label in self.executors:
                raise ConfigurationError(f"An executor labelled {ex.label!r} is already loaded")
            ex.run_id = self.run_id
            ex.run_dir = self.run_dir
            if hasattr(ex, "provider") and getattr(ex, "provider", None) is not None:
                prov = ex.provider
                if getattr(prov, "script_dir", None) is None:
                    prov.script_dir = os.path.join(self.run_dir, "submit_scripts")
                    os.makedirs(prov.script_dir, exist_ok=True)
            if getattr(ex, "working_dir", None) is None and hasattr(ex, "working_dir"):
                pass
            self.executors[ex.label] = ex
            try:
                ex.start()
            except Exception:
                del self.executors[ex.label]
                raise
            if ex.label != INTERNAL_EXECUTOR:
                self._user_labels.append(ex.label)
            logger.info("Started executor %s (%s)", ex.label, type(ex).__name__)
        if self.job_status_poller is not None:
            self.job_status_poller.add_executors(executors)

    def _start_scaling(self) -> None:
        from parsl.jobs.job_status_poller import JobStatusPoller
        self.job_status_poller = JobStatusPoller(strategy=self._config.strategy,
                                                 strategy_period=self._config.strategy_period,
                                                 max_idletime=self._config.max_idletime, dfk=self)

    # ------------------------------------------------------------------ submit
    def _resolve_executor(self, executors: Any, task_id: int) -> str:
        if executors == "all":
            labels = self._user_labels
        elif isinstance(executors, str):
            labels = [executors]
        else:
            labels = list(executors)
        if len(labels) == 1:
            label = labels[0]
        elif labels:
            label = random.choice(labels)
        else:
            raise UnknownExecutorError(f"Task {task_id} names no executor: executors=[] is empty")
        if label not in self.executors:
            raise UnknownExecutorError(
                f"Task {task_id} requested executor {label!r}, but the loaded Config only has "
                f"{sorted(self._user_labels)}; fix the app's executors=[...] or add an executor "
                f"with label={label!r} to Config(executors=[...])")
        return label

    def submit(self, func: Callable[..., Any], app_args: Sequence[Any], executors: Any = "all",
               cache: bool = False, ignore_for_cache: Sequence[str] | None = None,
               app_kwargs: dict[str, Any] | None = None, join: bool = False) -> AppFuture:
        """Add a task; return its AppFuture. Called by apps, not usually by users."""
        if self.cleanup_called:
            raise ValueError("Cannot submit to a DataFlowKernel that has been cleaned up; "
                             "call parsl.load() again to start a new one")
        task_id = next(self._task_ids)
        self.task_count = task_id + 1
        kwargs = app_kwargs if app_kwargs is not None else {}
        label = INTERNAL_EXECUTOR if join else self._resolve_executor(executors, task_id)
        if join and executors != "all" and executors != [INTERNAL_EXECUTOR]:
            raise ConfigurationError("join_app runs on the internal executor; remove executors=")
        name = getattr(func, "__name__", None) or type(func).__name__
        task = TaskRecord(id=task_id, func=func, func_name=name, args=app_args, kwargs=kwargs,
                          executor=label, retries_left=self._config.retries, memoize=cache,
                          ignore_for_cache=list(ignore_for_cache) if ignore_for_cache else [],
                          join=join, time_invoked=time.time(), dfk=self,
                          resource_specification=kwargs.get("parsl_resource_specification", {}))
        app_fu = AppFuture(task)
        task.app_fu = app_fu
        self.tasks[task_id] = task
        if self._debug:
            logger.debug("Task %s bound to app %s on executor %s", task_id, name, label,
                         extra={"parsl.task": task_id, "parsl.app_name": name, "parsl.executor": label})
        self._set_state(task, States.pending)

        stage_args = False
        for a in app_args:
            if isinstance(a, _STAGEABLE):
                stage_args = True
                break
        if kwargs or stage_args:
            try:
                if kwargs:
                    self._prepare_special_kwargs(task, kwargs, label)
                if stage_args and not (kwargs and kwargs.get("_parsl_staging_inhibit")):
                    self._stage_in_args(task, label)
            except BaseException as e:
                # the call raises, so nobody will ever hold this task's future: forget it
                self.tasks.pop(task_id, None)
                task.launched = True
                self._set_state(task, States.failed)
                app_fu.set_exception(e)
                raise

        deps = self._gather_deps(task)
        if not deps:
            self._launch_if_ready(task)
            return app_fu
        task.depends = deps
        if self._debug:
            for d in deps:
                dep_tid = getattr(d, "tid", None)
                logger.debug("Task %s depends on task %s", task_id, dep_tid,
                             extra={"parsl.task": task_id, "parsl.dependency_task": dep_tid})
        task.pending_deps = len(deps) + 1
        cb = partial(self._dep_done, task)
        for d in deps:
            d.add_done_callback(cb)
        self._dep_done(task, None)
        return app_fu

    def submit_internal(self, func: Callable[..., Any], args: Sequence[Any], name: str | None = None) -> AppFuture:
        """Run a small kernel-internal function (lifted ``fut[key]``/``fut.attr``) on the internal executor."""
        return self.submit(func, args, executors=[INTERNAL_EXECUTOR])

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
            if spec is parsl.AUTO_LOGNAME or (spec is not None and spec == parsl.AUTO_LOGNAME
                                              and not isinstance(spec, bool)):
                spec = kwargs[kw] = self._auto_logname(task, kw)
                # the generated path differs per task: it must not change the memo key
                if kw not in task.ignore_for_cache:
                    task.ignore_for_cache.append(kw)
            if staging and isinstance(spec, File) and spec.scheme != "file":
                self._stage_out_std_stream(task, kw, spec, label)
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
            task.ignore_for_cache.append(kind)

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
            for k, v in task.kwargs.items():
                deps.extend(gather(v))
        return deps

    def _dep_done(self, task: TaskRecord, _fut: Future | None) -> None:
        with self._lock:
            task.pending_deps -= 1
            ready = task.pending_deps == 0
        if ready:
            self._launch_dependent(task)

    def _launch_dependent(self, task: TaskRecord) -> None:
        """Launch a task whose dependencies just finished, without growing the stack.

        A task that completes synchronously (an executor running it inside ``submit``, or a
        memo hit) makes its dependents ready from inside this very launch. Those are queued
        on the thread and launched by the outermost call, so a chain of N tasks runs at a
        constant stack depth instead of recursing N levels deep.
        """
        tl = self._launch_tl
        try:
            queue = tl.queue
        except AttributeError:
            queue = tl.queue = deque()
            tl.busy = False
        if tl.busy:
            queue.append(task)
            return
        tl.busy = True
        try:
            while True:
                try:
                    self._launch_if_ready(task)
                except Exception:
                    logger.exception("Launching task %s failed", task.id)
                if not queue:
                    break
                task = queue.popleft()
        finally:
            tl.busy = False

    # ------------------------------------------------------------------ launch
    def launch_if_ready(self, task_record: TaskRecord) -> None:
        """Launch the task if all its dependencies are done and it has not been launched."""
        if task_record.pending_deps <= 0:
            self._launch_if_ready(task_record)

    def _launch_if_ready(self, task: TaskRecord) -> None:
        with self._lock:
            if task.launched or task.status in FINAL_STATES:
                return
            task.launched = True
        if task.depends:
            failed = [(d.exception(), self.render_future_description(d)) for d in task.depends
                      if d.exception() is not None]
            if failed:
                self._finish_failure(task, DependencyError(failed, task.id), States.dep_fail)
                return
            try:
                self._unwrap_deps(task)
            except Exception as e:
                self._finish_failure(task, e, States.failed)
                return
        self.launch_task(task)

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

    def launch_task(self, task: TaskRecord) -> Future:
        """Submit the task to its executor (or satisfy it from the memo table)."""
        if task.memoize and self._memoize:
            try:
                memo_fu = self.memoizer.check_memo(task)
            except Exception as e:
                self._finish_failure(task, e, States.failed)
                return task.app_fu
            if memo_fu is not None:
                task.from_memo = True
                self._memo_done(task, memo_fu)
                return memo_fu
        executor = self.executors[task.executor]
        task.try_time_launched = time.time()
        try:
            exec_fu = executor.submit(task.func, task.resource_specification, *task.args, **task.kwargs)
        except Exception as e:
            self._set_state(task, States.launched)
            exec_fu = Future()
            exec_fu.set_exception(e)
        else:
            self._set_state(task, States.launched)
        task.exec_fu = exec_fu
        if self._log_event is not None:
            self._log_event((task.try_time_launched, task.id, "launched", task.func_name, task.executor,
                             task.try_id))
        exec_fu.add_done_callback(partial(self.handle_exec_update, task))
        return exec_fu

    def _memo_done(self, task: TaskRecord, memo_fu: Future) -> None:
        exc = memo_fu.exception()
        with self._count_lock:
            self.tasks_memo_completed_count += 1
        self._set_state(task, States.memo_done)
        if self._log_event is not None:
            self._log_event((time.time(), task.id, "memo_done", task.func_name, None, 0))
        task.time_returned = time.time()
        if exc is not None:
            task.app_fu.set_exception(exc)
        else:
            task.app_fu.set_result(memo_fu.result())
        self._task_finished(task)

    # ----------------------------------------------------------------- results
    def handle_exec_update(self, task_record: TaskRecord, future: Future) -> None:
        """Callback of an execution attempt: complete, retry or fail the task."""
        task = task_record
        task.try_time_returned = time.time()
        try:
            res = future.result()
            if isinstance(res, RemoteExceptionWrapper):
                res.reraise()
        except BaseException as e:  # an app calling sys.exit() fails its task, never hangs it
            self._attempt_failed(task, e)
            return
        if task.join:
            self._start_join(task, res)
            return
        self._finish_success(task, res)

    def _attempt_failed(self, task: TaskRecord, e: BaseException) -> None:
        task.fail_count += 1
        if task.fail_history is None:
            task.fail_history = []
        task.fail_history.append(repr(e))
        handler = self._config.retry_handler
        if handler is not None:
            try:
                cost = float(handler(e, task))
            except Exception as handler_error:
                # as in Parsl, the task fails with the handler's exception (chained to the app's)
                logger.exception("retry_handler raised for task %s; not retrying", task.id)
                if handler_error.__cause__ is None:
                    handler_error.__cause__ = e
                self._finish_failure(task, handler_error, States.failed)
                return
        else:
            cost = 1.0
        task.fail_cost += cost
        if task.fail_cost <= self._config.retries:
            if self._log_event is not None:
                self._log_event((time.time(), task.id, "failed, retrying", task.func_name,
                                 f"{type(e).__name__}: {e}", task.try_id))
            self._set_state(task, States.fail_retryable)
            task.try_id += 1
            task.retries_left = max(0, self._config.retries - int(task.fail_cost))
            with self._lock:
                task.launched = False
            # as in Parsl, a task to be retried goes back to pending before it is relaunched
            self._set_state(task, States.pending)
            self._launch_if_ready(task)
            return
        self._finish_failure(task, e, States.failed)

    def _finish_success(self, task: TaskRecord, res: Any) -> None:
        task.time_returned = time.time()
        with self._count_lock:
            self.tasks_completed_count += 1
        self._set_state(task, States.exec_done)
        if self._log_event is not None:
            self._log_event((task.time_returned, task.id, "exec_done", task.func_name, None, 0))
        if task.memoize:
            self._update_memo(task, res, None)
        app_fu = task.app_fu
        app_fu.set_result(res)
        self._task_finished(task)

    def _finish_failure(self, task: TaskRecord, e: BaseException, state: States) -> None:
        task.time_returned = time.time()
        with self._count_lock:
            if state == States.dep_fail:
                self.tasks_dep_fail_count += 1
            else:
                self.tasks_failed_count += 1
        self._set_state(task, state)
        logger.info("Task %s (%s) %s: %s: %s", task.id, task.func_name, state.name, type(e).__name__, e)
        if task.memoize:
            self._update_memo(task, None, e)
        app_fu = task.app_fu
        app_fu.set_exception(e)
        self._task_finished(task)

    def _update_memo(self, task: TaskRecord, res: Any, exc: BaseException | None) -> None:
        """Record a cached app's outcome before its AppFuture completes.

        A call made as soon as ``result()`` returns must find the entry (as in Parsl).
        """
        if not self._memoize or task.from_memo:
            return
        outcome: Future = Future()
        if exc is None:
            outcome.set_result(res)
        else:
            outcome.set_exception(exc)
        try:
            self.memoizer.update_memo(task, outcome)
        except Exception:
            logger.exception("Memoizer failed to record task %s", task.id)

    def _task_finished(self, task: TaskRecord) -> None:
        if self._garbage_collect:
            # Drop the record's links to futures so finished tasks are freed by reference
            # counting rather than piling up for the cyclic garbage collector.
            self.tasks.pop(task.id, None)
            task.exec_fu = None
            task.app_fu = None
            task.depends = ()

    # ------------------------------------------------------------------- joins
    def _start_join(self, task: TaskRecord, inner: Any) -> None:
        if isinstance(inner, Future):
            inner_futs: list[Future] = [inner]
        elif isinstance(inner, (list, tuple)) and all(isinstance(f, Future) for f in inner):
            inner_futs = list(inner)
        elif isinstance(inner, dict) and all(isinstance(f, Future) for f in inner.values()):
            inner_futs = list(inner.values())
        else:
            self._finish_failure(task, TypeError(
                f"join_app {task.func_name} must return a Future, a list of Futures or a dict of "
                f"Futures, not {type(inner).__name__}"), States.failed)
            return
        task.joins = inner
        self._set_state(task, States.joining)
        remaining = [len(inner_futs)]
        lock = threading.Lock()

        def one_done(_f: Future) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                self._join_done(task, inner, inner_futs)

        if not inner_futs:
            self._join_done(task, inner, inner_futs)
        for f in inner_futs:
            f.add_done_callback(one_done)

    def _join_done(self, task: TaskRecord, inner: Any, inner_futs: list[Future]) -> None:
        failed = [(f.exception(), self.render_future_description(f)) for f in inner_futs
                  if f.exception() is not None]
        if failed:
            self._finish_failure(task, JoinError(failed, task.id), States.failed)
            return
        if isinstance(inner, Future):
            res = inner.result()
        elif isinstance(inner, dict):
            res = {k: f.result() for k, f in inner.items()}
        else:
            res = [f.result() for f in inner]
        self._finish_success(task, res)

    def render_future_description(self, dep: Future) -> str:
        """Name a future in error messages: ``'task 3'``, ``'DataFuture from task 3'`` or its repr."""
        if isinstance(dep, AppFuture) and dep.task_record.dfk is self:
            return f"task {dep.task_record.id!r}"
        if isinstance(dep, DataFuture):
            return f"DataFuture from task {dep.tid!r}"
        return repr(dep)

    # ------------------------------------------------------------------- state
    def _set_state(self, task: TaskRecord, new_state: States) -> None:
        old = task.status
        task.status = new_state
        if self._debug:
            logger.debug("Task %s changed state from %s to %s", task.id, old.name, new_state.name,
                         extra={"parsl.task": task.id, "parsl.task_state": new_state.name,
                                "parsl.app_name": task.func_name})
        if self._observe:
            self.plugins.task_state_changed(self, task, old, new_state)

    def update_task_state(self, task_record: TaskRecord, new_state: States) -> None:
        """Set a task's state (and tell observing plugins)."""
        self._set_state(task_record, new_state)

    def wipe_task(self, task_id: int) -> None:
        """Forget a finished task."""
        self.tasks.pop(task_id, None)

    @property
    def task_state_counts(self) -> dict[States, int]:
        """How many tasks are in each state (final states count every task that reached them)."""
        counts: dict[States, int] = defaultdict(int)
        for t in list(self.tasks.values()):
            if t.status not in FINAL_STATES:
                counts[t.status] += 1
        counts[States.exec_done] = self.tasks_completed_count
        counts[States.failed] = self.tasks_failed_count
        counts[States.dep_fail] = self.tasks_dep_fail_count
        counts[States.memo_done] = self.tasks_memo_completed_count
        return counts

    def log_task_states(self) -> None:
        counts: dict[str, int] = {}
        for t in list(self.tasks.values()):
            counts[t.status.name] = counts.get(t.status.name, 0) + 1
        logger.info("Tasks still tracked by state: %s; completed %d, failed %d, dep_fail %d, memo %d",
                    counts or "none", self.tasks_completed_count, self.tasks_failed_count,
                    self.tasks_dep_fail_count, self.tasks_memo_completed_count)

    # ------------------------------------------------------------ wait/cleanup
    def wait_for_current_tasks(self) -> None:
        """Block until every task submitted so far has finished (successfully or not)."""
        logger.info("Waiting for all remaining tasks to complete")
        while True:
            # a finishing task may drop its app_fu (garbage collection) while we look
            pending = [fu for fu in [t.app_fu for t in list(self.tasks.values())]
                       if fu is not None and not fu.done()]
            if not pending:
                break
            wait_futures(pending)
        logger.info("All remaining tasks completed")

    def checkpoint(self, tasks: Sequence[TaskRecord] | None = None) -> str:
        """Write completed, not yet checkpointed results; return the checkpoint directory."""
        return self.memoizer.checkpoint(tasks)

    def atexit_cleanup(self) -> None:
        if not self.cleanup_called:
            logger.info("Python is exiting with a DataFlowKernel still loaded: cleaning up")
            self.cleanup()

    def cleanup(self) -> None:
        """Shut down executors, write final checkpoints and release everything this kernel holds."""
        if self.cleanup_called:
            logger.debug("cleanup() called again; nothing to do")
            return
        self.cleanup_called = True
        logger.info("DataFlowKernel cleanup started")
        self.log_task_states()
        try:
            self.memoizer.close()
        except Exception:
            logger.exception("Memoizer failed to close")
        if self.job_status_poller is not None:
            self.job_status_poller.close()
        for label, ex in list(self.executors.items()):
            if label == INTERNAL_EXECUTOR:
                continue
            if getattr(ex, "managed", True) is False:
                continue
            try:
                ex.shutdown()
            except Exception:
                logger.exception("Executor %s failed to shut down", label)
        self._internal.shutdown(block=False)
        self.time_completed = time.time()
        self.plugins.dfk_stopped(self)
        self._events.close()
        atexit.unregister(self.atexit_cleanup)
        if DataFlowKernelLoader._dfk is self:
            DataFlowKernelLoader._dfk = None
        logger.info("DataFlowKernel cleanup complete")
        if self._remove_log_handler is not None:
            self._remove_log_handler()
            self._remove_log_handler = None


class DataFlowKernelLoader:
    """Holds the process's current DataFlowKernel (what ``parsl.load`` creates)."""

    _dfk: DataFlowKernel | None = None

    @classmethod
    def clear(cls) -> None:
        """Forget the current DataFlowKernel (without cleaning it up)."""
        cls._dfk = None

    @classmethod
    def load(cls, config: Config | None = None) -> DataFlowKernel:
        """Create the DataFlowKernel for ``config`` (default: threads) and make it current."""
        if cls._dfk is not None:
            raise ConfigAlreadyLoadedError(
                "Config has already been loaded: call parsl.dfk().cleanup() and parsl.clear() "
                "before loading another, or use `with parsl.load(config):`")
        cls._dfk = DataFlowKernel(config)
        return cls._dfk

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        """Wait for every task of the current DataFlowKernel."""
        cls.dfk().wait_for_current_tasks()

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The current DataFlowKernel; raises NoDataFlowKernelError when none is loaded."""
        if cls._dfk is None:
            # Parsl's exact message (scripts compare it); the fix travels as a traceback note
            err = NoDataFlowKernelError("Must first load config")
            err.__notes__ = ["Call parsl.load(config) (or use `with parsl.load(config):`) before "
                             "calling apps"]
            raise err
        return cls._dfk
