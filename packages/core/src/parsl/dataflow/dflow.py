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
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from concurrent.futures import wait as wait_futures
from functools import partial
from typing import TYPE_CHECKING, Any

import parsl
from parsl.app.errors import RemoteExceptionWrapper
from parsl.app.futures import DataFuture
from parsl.config import Config
from parsl.data_provider.data_manager import DataManager
from parsl.dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER
from parsl.dataflow.errors import DependencyError, failures_of
from parsl.dataflow.futures import AppFuture
from parsl.dataflow.interrupts import InterruptHandlers, non_blocking, shutdown_within
from parsl.dataflow.joins import Joins
from parsl.dataflow.lightfuture import LightFuture
from parsl.dataflow.loader import ConfigAlreadyLoadedError, DataFlowKernelLoader
from parsl.dataflow.memoization import BasicMemoizer
from parsl.dataflow.rundirs import make_rundir
from parsl.dataflow.states import FINAL_STATES, States
from parsl.dataflow.task_inputs import _STAGEABLE, TaskInputs
from parsl.dataflow.tasklog import TaskEventLog
from parsl.dataflow.taskrecord import TaskRecord
from parsl.errors import ConfigurationError
from parsl.executors.base import INTERNAL_EXECUTOR_LABEL, ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor
from parsl.plugins import LAUNCH_TOLD, ParslPlugins, TaskSubmission, new_plugin_manager
from parsl.version import VERSION

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self  # annotations only

__all__ = ["ConfigAlreadyLoadedError", "DataFlowKernel", "DataFlowKernelLoader", "UnknownExecutorError"]

logger = logging.getLogger(__name__)

#: ``_set_state``'s default hook: the plugins' ``state_hook`` as it is when called
_STATE_HOOK: Any = object()


#: how long cleanup after Ctrl-C / SIGTERM waits for executors to shut down
INTERRUPTED_SHUTDOWN_SECONDS = 3.0


class UnknownExecutorError(ConfigurationError, ValueError):
    """An app asked for an executor label the loaded Config does not have."""


def _launch_initial_blocks(ex: ParslExecutor) -> None:
    """Ask a started block executor for its provider's ``init_blocks``.

    This is the kernel's job, not ``start()``'s: software that drives an executor without a
    DataFlowKernel makes the same ``scale_out_facade(init_blocks)`` call itself, so an
    executor that also launched blocks in ``start()`` would get twice as many.
    """
    provider = getattr(ex, "provider", None)
    if provider is None or not hasattr(ex, "scale_out_facade"):
        return
    init_blocks = getattr(provider, "init_blocks", 0) or 0
    if init_blocks > 0:
        logger.info("Executor %s: launching %d initial block(s)", ex.label, init_blocks)
        ex.scale_out_facade(init_blocks)


def _type_name(ex: ParslExecutor) -> str:
    """The executor class's dotted name as Parsl users import it: a plugin class living in its
    own package may name its ``parsl.*`` path in a ``PARSL_PUBLIC_PATH`` attribute of its own."""
    cls = type(ex)
    return cls.__dict__.get("PARSL_PUBLIC_PATH") or f"{cls.__module__}.{cls.__qualname__}"


class DataFlowKernel(TaskInputs, Joins):
    """Track app futures, resolve their dependencies and hand ready tasks to executors."""

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            config = Config()
        if isinstance(config, dict):
            raise ConfigurationError(
                "Expected a parsl.config.Config, received a dict; build one with Config(**your_dict)"
            )
        if not isinstance(config, Config):
            raise ConfigurationError(f"Expected a parsl.config.Config, received {type(config).__name__}")
        if not config.executors:
            raise ConfigurationError(
                "Config(executors=[]) has no executors; add at least one, "
                "e.g. executors=[ThreadPoolExecutor()]"
            )
        self.cleanup_called = False
        self._config = config
        self.executors: dict[str, ParslExecutor] = {}
        self._user_labels: list[str] = []
        self.job_status_poller: Any = None
        self._events: TaskEventLog | None = None
        self.memoizer: Any = None
        self._interrupts = InterruptHandlers()
        self.run_dir = make_rundir(config.run_dir)
        self._remove_log_handler: Callable[[], None] | None = None
        if config.initialize_logging is True:
            level = getattr(logging, os.environ.get("PARSL_LOG_LEVEL", "INFO").upper(), logging.INFO)
            self._remove_log_handler = parsl.set_file_logger(
                os.path.join(self.run_dir, "parsl.log"), level=level
            )
        elif config.initialize_logging is not False:
            # a log configuration object: it sets logging up and returns how to undo it
            import pathlib

            log_config = config.initialize_logging
            if getattr(log_config, "uuid", None) is not None:
                # a parsl.logconfigs.LogConfig: applied once per process, however many users
                from parsl.logconfigs.base import oneshot_initialize_logging, oneshot_uninitialize_logging

                oneshot_initialize_logging(
                    log_config=log_config, log_dir=pathlib.Path(self.run_dir), log_name="parsl"
                )
                self._remove_log_handler = partial(oneshot_uninitialize_logging, log_config=log_config)
            else:
                undo = log_config.initialize_logging(log_dir=pathlib.Path(self.run_dir), log_name="parsl")
                self._remove_log_handler = undo if callable(undo) else None
        try:
            self._start(config)
        except BaseException as e:
            self._abort_start(e)
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
        self._garbage_collect = config.garbage_collect
        self._events = TaskEventLog()
        self._log_event = self._events.record if self._events.enabled else None

        observers = list(config.observers)
        #: Parsl's ``dfk.monitoring``: the Config's MonitoringHub, or None
        self.monitoring = config.monitoring
        if config.monitoring is not None:
            observers.append(config.monitoring)
        # its flags (observes_tasks, ...) follow plugins registered later, also via plugins.pm
        self.plugins: ParslPlugins = new_plugin_manager(observers)
        # Per-task DEBUG records (with parsl.task / parsl.app_name extras) only when asked for.
        self._debug = logger.isEnabledFor(logging.DEBUG)

        resolver = config.dependency_resolver or SHALLOW_DEPENDENCY_RESOLVER
        self.dependency_resolver = resolver
        self._shallow = resolver is SHALLOW_DEPENDENCY_RESOLVER

        if config.memoizer is not None:
            self.memoizer = config.memoizer
        else:
            self.memoizer = BasicMemoizer(
                checkpoint_files=config.checkpoint_files,
                checkpoint_period=config.checkpoint_period,
                checkpoint_mode=config.checkpoint_mode,
            )
            self.memoizer._from_config = True
        self.memoizer.start(
            dfk=self, memoize=config.app_cache, checkpoint_files=config.checkpoint_files, run_dir=self.run_dir
        )
        self._memoize = config.app_cache

        self.data_manager = DataManager(self)
        self._internal = ThreadPoolExecutor(
            label=INTERNAL_EXECUTOR_LABEL, max_threads=config.internal_tasks_max_threads
        )
        self.add_executors([self._internal])
        self._start_scaling()
        self.add_executors(config.executors)

        atexit.register(self.atexit_cleanup)
        self._interrupts.install()
        self.plugins.dfk_started(self)

    def _abort_start(self, error: BaseException) -> None:
        """Undo a partly built DataFlowKernel whose construction raised ``error``."""
        self.cleanup_called = True
        logger.error("DataFlowKernel failed to start; releasing what was started", exc_info=error)
        atexit.unregister(self.atexit_cleanup)
        self._interrupts.restore()
        for step in (
            lambda: self.memoizer is not None and self.memoizer.close(),
            lambda: self.job_status_poller is not None and self.job_status_poller.close(),
            *[(lambda ex=ex: ex.shutdown()) for ex in self.executors.values()],
            lambda: self._events is not None and self._events.close(),
        ):
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
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
            if ex.label != INTERNAL_EXECUTOR_LABEL and self.plugins.receives_executor_reports:
                # Block status, worker pools and messages from inside tasks go to plugins.
                ex.monitoring_messages = partial(self.plugins.executor_reported, self, ex.label)
            self.executors[ex.label] = ex
            try:
                ex.start()
            except Exception:
                del self.executors[ex.label]
                raise
            try:
                _launch_initial_blocks(ex)
            except Exception:
                # it started: stop it before reporting, or its processes outlive the error
                del self.executors[ex.label]
                try:
                    ex.shutdown()
                except Exception:
                    logger.exception(
                        "Error shutting down executor %s after its initial blocks failed", ex.label
                    )
                raise
            if ex.label != INTERNAL_EXECUTOR_LABEL:
                self._user_labels.append(ex.label)
            logger.info(
                "Started executor %s (%s)",
                ex.label,
                type(ex).__name__,
                extra={"parsl.executor.label": ex.label, "parsl.executor.type": _type_name(ex)},
            )
        if self.job_status_poller is not None:
            self.job_status_poller.add_executors(executors)

    def _start_scaling(self) -> None:
        from parsl.jobs.job_status_poller import JobStatusPoller

        self.job_status_poller = JobStatusPoller(
            strategy=self._config.strategy,
            strategy_period=self._config.strategy_period,
            max_idletime=self._config.max_idletime,
            dfk=self,
        )

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
                f"with label={label!r} to Config(executors=[...])"
            )
        return label

    def submit(
        self,
        func: Callable[..., Any],
        app_args: Sequence[Any],
        executors: Any = "all",
        cache: bool = False,
        ignore_for_cache: Sequence[str] | None = None,
        app_kwargs: dict[str, Any] | None = None,
        join: bool = False,
    ) -> AppFuture:
        """Add a task; return its AppFuture. Called by apps, not usually by users."""
        if self.cleanup_called:
            from parsl.errors import NoDataFlowKernelError  # Parsl's error and text

            raise NoDataFlowKernelError("Cannot submit to a DFK that has been cleaned up")
        task_id = next(self._task_ids)
        self.task_count = task_id + 1
        kwargs = app_kwargs if app_kwargs is not None else {}
        label = INTERNAL_EXECUTOR_LABEL if join else self._resolve_executor(executors, task_id)
        if join and executors != "all" and executors != [INTERNAL_EXECUTOR_LABEL]:
            raise ConfigurationError("join_app runs on the internal executor; remove executors=")
        name = getattr(func, "__name__", None) or type(func).__name__
        task = TaskRecord(
            id=task_id,
            func=func,
            func_name=name,
            args=app_args,
            kwargs=kwargs,
            executor=label,
            retries_left=self._config.retries,
            memoize=cache,
            # a list only when the app names some: most tasks share the empty tuple
            ignore_for_cache=list(ignore_for_cache) if ignore_for_cache else (),
            join=join,
            time_invoked=time.time(),
            dfk=self,
            resource_specification=kwargs.get("parsl_resource_specification", {}),
        )
        app_fu = AppFuture(task)
        task.app_fu = app_fu
        self.tasks[task_id] = task
        if self._debug:
            logger.debug(
                "Task %s bound to app %s on executor %s",
                task_id,
                name,
                label,
                extra={"parsl.task": task_id, "parsl.app_name": name, "parsl.executor": label},
            )

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
                # pending first all the same: observers see every task begin before it ends
                self._set_state(task, States.pending)
                self._set_state(task, States.failed)
                app_fu.set_exception(e)
                raise

        deps = self._gather_deps(task)
        if deps:
            task.depends = deps
        elif not kwargs and not cache:
            quiet = self.plugins.quiet_start
            if quiet is not None and label in quiet:
                # a quiet start (see parsl.plugins.QUIET_START): the only observer hears of
                # this task when its try returns, one call fewer per task
                task.untold = True
                if self._debug:
                    self._set_state(task, States.pending, None)
                else:
                    task.status = States.pending
                self._launch_if_ready(task, True)
                return app_fu
        # pending once the task's dependencies are known, as in Parsl: an observer sees them
        # with its first state (and knows a task without any will be launched at once)
        told = self._set_state(task, States.pending)
        if not deps:
            # the only observer may have taken note of this launch already (LAUNCH_TOLD)
            self._launch_if_ready(task, told is LAUNCH_TOLD and self.plugins.launch_told_ok)
            return app_fu
        if self._debug:
            for d in deps:
                dep_tid = getattr(d, "tid", None)
                logger.debug(
                    "Task %s depends on task %s",
                    task_id,
                    dep_tid,
                    extra={"parsl.task": task_id, "parsl.dependency_task": dep_tid},
                )
        task.pending_deps = len(deps) + 1
        cb = partial(self._dep_done, task)
        for d in deps:
            d.add_done_callback(cb)
        self._dep_done(task, None)
        return app_fu

    def submit_internal(self, func: Callable[..., Any], args: Sequence[Any]) -> AppFuture:
        """Run a small kernel-internal function (lifted ``fut[key]``/``fut.attr``) on the internal executor."""
        return self.submit(func, args, executors=[INTERNAL_EXECUTOR_LABEL])

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

    def _launch_if_ready(self, task: TaskRecord, told: bool = False) -> None:
        with self._lock:
            if task.launched or task.status in FINAL_STATES:
                return
            task.launched = True
        if task.depends:
            failed = failures_of(task.depends, self.render_future_description)
            if failed:
                self._finish_failure(task, DependencyError(failed, task.id), States.dep_fail)
                return
            try:
                self._unwrap_deps(task)
            except Exception as e:
                self._finish_failure(task, e, States.failed)
                return
        self.launch_task(task, told)

    def launch_task(self, task: TaskRecord, told: bool = False) -> Future:
        """Submit the task to its executor (or satisfy it from the memo table).

        ``told``: the plugins' only observer said it took note of this launch when the task
        became pending (see :data:`parsl.plugins.LAUNCH_TOLD`): it is not called for it.
        """
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
        func, kwargs = task.func, task.kwargs
        prepare = None if told else self.plugins.prepare_hook
        prepared = prepare is not None and task.executor != INTERNAL_EXECUTOR_LABEL
        if prepared:
            # the try's own keyword arguments are copied only if a plugin reads them (to add
            # private ones for its wrapper)
            submission = TaskSubmission(func, kwargs)
            try:
                prepare(self, task, submission)
            except Exception as e:  # a plugin never breaks a workflow
                self.plugins.prepare_hook_failed(e)
            func = submission.func
            if submission._kwargs is not None:
                kwargs = submission._kwargs
        try:
            exec_fu = executor.submit(func, task.resource_specification, *task.args, **kwargs)
        except Exception as e:
            exec_fu = Future()
            exec_fu.set_exception(e)
        # a plugin that said its parsl_task_prepared tells it of launches is not told twice,
        # nor one that took note of this launch at pending
        self._set_state(
            task,
            States.launched,
            None if told else self.plugins.launch_hook if prepared else self.plugins.state_hook,
        )
        task.exec_fu = exec_fu
        if self._log_event is not None:
            self._log_event(
                (task.try_time_launched, task.id, "launched", task.func_name, task.executor, task.try_id)
            )
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
        except CancelledError as e:
            if future.cancelled():  # the executor withdrew the task before it started
                self._finish_cancelled(task)
            else:
                self._attempt_failed(task, e)
            return
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
                self._log_event(
                    (
                        time.time(),
                        task.id,
                        "failed, retrying",
                        task.func_name,
                        f"{type(e).__name__}: {e}",
                        task.try_id,
                    )
                )
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

    def cancel_task(self, task: TaskRecord) -> bool:
        """Cancel a task (``AppFuture.cancel()``); True if it will never run.

        A task not yet handed to its executor (waiting for inputs, or for a retry) is always
        cancelled. A launched one is cancelled only if its executor can still withdraw it
        (the executor future's ``cancel()`` succeeds); a running task is left to finish.
        """
        with self._lock:
            if task.status in FINAL_STATES or task.app_fu is None or task.app_fu.done():
                return False
            not_launched = not task.launched
            if not_launched:
                task.launched = True  # from now on nothing launches it
            exec_fu = task.exec_fu
        if not_launched:
            self._finish_cancelled(task)
            return True
        # exec_fu.cancel() runs handle_exec_update, which cancels the AppFuture
        return exec_fu is not None and exec_fu.cancel()

    def _finish_cancelled(self, task: TaskRecord) -> None:
        task.time_returned = time.time()
        with self._count_lock:
            self.tasks_failed_count += 1
        self._set_state(task, States.failed)
        logger.info("Task %s (%s) cancelled", task.id, task.func_name)
        app_fu = task.app_fu
        if app_fu is not None:
            LightFuture.cancel(app_fu)  # marks it cancelled and runs its callbacks (dependents fail)
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

    def render_future_description(self, dep: Future) -> str:
        """Name a future in error messages: ``'task 3'``, ``'DataFuture from task 3'`` or its repr."""
        if isinstance(dep, AppFuture) and dep.task_record.dfk is self:
            return f"task {dep.task_record.id!r}"
        if isinstance(dep, DataFuture):
            return f"DataFuture from task {dep.tid!r}"
        return repr(dep)

    # ------------------------------------------------------------------- state
    def _set_state(self, task: TaskRecord, new_state: States, hook: Any = _STATE_HOOK) -> object:
        """Set ``task``'s state and call ``hook`` (by default the plugins' ``state_hook``);
        return what it returned (None without a hook, or if it raised)."""
        old = task.status
        task.status = new_state
        if self._debug:
            logger.debug(
                "Task %s changed state from %s to %s",
                task.id,
                old.name,
                new_state.name,
                extra={
                    "parsl.task": task.id,
                    "parsl.task_state": new_state.name,
                    "parsl.app_name": task.func_name,
                },
            )
        if hook is _STATE_HOOK:
            hook = self.plugins.state_hook
        if hook is not None:
            try:
                return hook(self, task, old, new_state)
            except Exception as e:  # an observer never breaks a workflow
                self.plugins.state_hook_failed(e)
        return None

    def update_task_state(self, task_record: TaskRecord, new_state: States) -> None:
        """Set a task's state (and tell observing plugins)."""
        self._set_state(task_record, new_state)

    def task_of_future(self, fut: Future) -> TaskRecord | None:
        """The task whose current try an executor's future ``fut`` is (None if none of ours).

        Found through the callback the kernel adds to each such future: for telemetry that
        sees a future (``ThreadPoolExecutor.running()``) and needs its task, not for a hot path.
        """
        callbacks = getattr(fut, "_done_callbacks", None) or ()
        for cb in list(callbacks):
            if isinstance(cb, partial) and cb.func == self.handle_exec_update and cb.args:
                task: TaskRecord = cb.args[0]
                return task
        return None

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
        """Log how many tasks are in each state, one line per state (the lines Parsl writes at cleanup)."""
        counts = self.task_state_counts
        logger.info("Summary of tasks in DFK:")
        for state in States:
            logger.info("Tasks in state %s: %d", state, counts.get(state, 0))
        logger.info("End of summary")

    # ------------------------------------------------------------ wait/cleanup
    def wait_for_current_tasks(self) -> None:
        """Block until every task submitted so far has finished (successfully or not)."""
        logger.info("Waiting for all remaining tasks to complete")
        while True:
            # a finishing task may drop its app_fu (garbage collection) while we look
            pending = [
                fu for fu in [t.app_fu for t in list(self.tasks.values())] if fu is not None and not fu.done()
            ]
            if not pending:
                break
            wait_futures(pending)
        logger.info("All remaining tasks completed")

    def checkpoint(self, tasks: Sequence[TaskRecord] | None = None) -> str:
        """Checkpoint the given task records, or with None every completed task not yet written;
        return the checkpoint directory."""
        return self.memoizer.checkpoint(tasks)

    def atexit_cleanup(self) -> None:
        if not self.cleanup_called:
            logger.info("Python is exiting with a DataFlowKernel still loaded: cleaning up")
            self._interrupts.note_exit()
            try:
                self.cleanup()
            except Exception:
                # already logged step by step; nobody is left to catch it at interpreter exit
                logger.debug("Cleanup at exit finished with errors")

    def cleanup(self) -> None:
        """Shut down executors, write final checkpoints and release everything this kernel holds."""
        if self.cleanup_called:
            logger.debug("cleanup() called again; nothing to do")
            return
        self.cleanup_called = True
        logger.info("DataFlowKernel cleanup started")
        # Every step runs even when an earlier one fails, and the kernel is unloaded whatever
        # happens (a half-cleaned kernel left in parsl.load's slot would refuse every later
        # load); the first failure is raised once everything else is done.
        errors: list[Exception] = []

        def step(what: str, fn: Callable[..., object], *args: object) -> None:
            try:
                fn(*args)
            except Exception as e:
                logger.exception("Cleanup: %s failed", what)
                errors.append(e)

        try:
            step("logging task states", self.log_task_states)
            step("closing the memoizer", self.memoizer.close)
            if self.job_status_poller is not None:
                step("closing the job status poller", self.job_status_poller.close)
            to_stop = [
                (label, ex.shutdown)
                for label, ex in self.executors.items()
                if label != INTERNAL_EXECUTOR_LABEL and getattr(ex, "managed", True) is not False
            ]
            if self._interrupts.interrupted():
                to_stop = [(label, non_blocking(stop)) for label, stop in to_stop]
                # Ctrl-C / SIGTERM: shut executors down side by side and do not wait for tasks
                # still running (the process is exiting; bash children are killed at exit)
                logger.info("Interrupted: shutting executors down without waiting for running tasks")
                late = shutdown_within(
                    to_stop,
                    INTERRUPTED_SHUTDOWN_SECONDS,
                    lambda label, e: logger.error("Executor %s failed to shut down", label, exc_info=e),
                )
                if late:
                    logger.warning(
                        "Executors %s still shutting down after %ss; not waiting",
                        late,
                        INTERRUPTED_SHUTDOWN_SECONDS,
                    )
            else:
                for label, stop in to_stop:
                    step(f"shutting down executor {label}", stop)
            step("shutting down the internal executor", self._internal.shutdown, False)
            step("restoring signal handlers", self._interrupts.restore)
            self.time_completed = time.time()
            step("notifying plugins", self.plugins.dfk_stopped, self)
            step("closing the task event log", self._events.close)
        finally:
            atexit.unregister(self.atexit_cleanup)
            if DataFlowKernelLoader._dfk is self:
                DataFlowKernelLoader.clear()
            logger.info("DataFlowKernel cleanup complete")
            if self._remove_log_handler is not None:
                self._remove_log_handler()
                self._remove_log_handler = None
        if errors:
            raise errors[0]
