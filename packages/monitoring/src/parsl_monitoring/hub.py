"""``MonitoringHub``: Parsl's monitoring, as an observer plugin of one DataFlowKernel.

``Config(monitoring=MonitoringHub(...))`` registers the hub with that DataFlowKernel's plugin
manager only. It implements four kernel hooks, all in the workflow process:

- ``parsl_task_state_changed``: every task state change (packed at the end of a byte queue;
  nothing else on the task's hot path), except launches, which come with the next hook;
- ``parsl_task_prepared``: queues the try's launch (``PARSL_LAUNCH_IN_PREPARE``), and wraps
  each app function once in a :class:`~parsl_monitoring.remote.MonitoredFunction` that
  reports when the task ran on the worker and, for executors that run tasks in their own
  processes, what it used. A ``ThreadPoolExecutor``'s tasks are not wrapped: its futures say
  when each try began, and the state hook queues ``running``/``running_ended`` as it returns
  (a try still running after ``LIVE_RUNNING_AFTER`` is reported at the next batch). Its plain
  tasks (no dependencies, keyword arguments or ``cache=True``) the kernel starts quietly
  (``PARSL_QUIET_START``, see ``parsl.plugins.QUIET_START``): the hub hears of one only when
  it returns, and queues all its events in one call then; the feeder reports one still
  queued or running after ``LIVE_RUNNING_AFTER`` as launched;
- ``parsl_executor_reported``: what executors report: blocks, worker pools, and the messages
  of those wrappers, carried over the executor's own connection (no extra port);
- ``parsl_dfk_started`` / ``parsl_dfk_stopped``: the workflow row, and a final flush.

The hooks queue plain tuples; a :class:`~parsl_monitoring.writer_process.WriterProcess` sends
them in batches to a writer process of its own, which turns them into batched SQLAlchemy writes
(:class:`~parsl_monitoring.writer.DatabaseWriter`) off the workflow process's GIL. Monitoring
problems are logged and never fail or hang the workflow.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from parsl import hookimpl
from parsl.dataflow.states import States
from parsl.executors.base import INTERNAL_EXECUTOR_LABEL
from parsl.plugins import LAUNCH_TOLD
from parsl.utils import RepresentationMixin
from parsl_monitoring.remote import TASK_KEY, TRY_KEY, MonitoredFunction
from parsl_monitoring.urls import check_url, safe_url
from parsl_monitoring.writer_process import (
    _PENDING,
    _RAN_CODES,
    _RECORD_CODES,
    _RUNNING,
    _RUNNING_ENDED,
    NEW_CODE,
    NEW_LAUNCHED,
    RAN,
    RUNNING_LIVE_CODE,
    STATE_CODES,
    pack_event,
)

if TYPE_CHECKING:
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.taskrecord import TaskRecord
    from parsl.plugins import TaskSubmission
    from parsl_monitoring.writer_process import WriterProcess

__all__ = ["MonitoringHub"]

logger = logging.getLogger("parsl.monitoring")

# Arguments of earlier Parsl versions that no longer do anything: accepted with a warning.
_DEPRECATED = (
    "hub_address",
    "hub_port",
    "hub_port_range",
    "client_address",
    "client_port_range",
    "logging_level",
    "logdir",
    "workflow_id",
)

#: how long cleanup waits for the last rows to be written before giving up (seconds)
FLUSH_TIMEOUT = 30.0

# How an executor's tasks are wrapped (see MonitoringHub._wrapping)
HERE, SAMPLE, ELSEWHERE = "here", "sample", "elsewhere"

#: seconds a thread executor's try runs before the feeder reports it as running (see
#: MonitoringHub._running_now); a shorter one is reported when it returns
LIVE_RUNNING_AFTER = 1.0

#: seconds after its invocation from which a quietly started task's return takes the hub's
#: lock before it reports the task (see MonitoringHub._untold_now): well under
#: LIVE_RUNNING_AFTER, so a shorter task can never have been reported by the feeder
CLAIM_AFTER = LIVE_RUNNING_AFTER / 2

#: how many task function wrappers the hub keeps alive after their last task (most recent first)
RECENT_WRAPPERS = 256


_LAUNCHED = STATE_CODES[States.launched]
# the per-task calls' helpers, bound once (each a C call on the hot path)
_pack_new_launched = NEW_LAUNCHED.pack  # see writer_process.pack_new_launched
_pack_ran = RAN.pack  # see writer_process.pack_ran
#: a quietly started task's whole first try in one call: new, launched, running, running_ended
#: and the state it returned in (see MonitoringHub.PARSL_QUIET_START)
_pack_whole = struct.Struct("<" + "qqd" * 5).pack
_now = time.time


class MonitoringHub(RepresentationMixin):
    """Record a workflow's tasks, tries, states, resources, worker pools and blocks in a database.

    :param workflow_name: shown in the database and dashboard; default: the script's file name.
    :param workflow_version: default: the time the workflow started.
    :param logging_endpoint: an SQLAlchemy database URL; default
        ``sqlite:///<Config.run_dir>/monitoring.db`` (``runinfo/monitoring.db``), shared by runs.
    :param monitoring_debug: log the hub's work at DEBUG level.
    :param resource_monitoring_enabled: sample each task's process with psutil on the worker.
    :param resource_monitoring_interval: seconds between samples (one is always taken at the end);
        0 takes no resource samples at all, as in Parsl.
    """

    #: our parsl_task_prepared tells us of each launch it sees (see parsl.plugins.LAUNCH_IN_PREPARE)
    PARSL_LAUNCH_IN_PREPARE = True

    def __init__(
        self,
        hub_address: Any = None,
        hub_port_range: Any = None,
        hub_port: Any = None,
        workflow_name: str | None = None,
        workflow_version: str | None = None,
        logging_endpoint: str | None = None,
        monitoring_debug: bool = False,
        resource_monitoring_enabled: bool = True,
        resource_monitoring_interval: float = 30,
        **old: Any,
    ) -> None:
        unknown = sorted(set(old) - set(_DEPRECATED))
        if unknown:
            raise TypeError(
                f"MonitoringHub() got unexpected keyword argument(s) {', '.join(unknown)}; "
                f"see the MonitoringHub documentation for the accepted parameters"
            )
        given = [
            n
            for n, v in (
                ("hub_address", hub_address),
                ("hub_port_range", hub_port_range),
                ("hub_port", hub_port),
                *old.items(),
            )
            if v is not None
        ]
        if given:
            warnings.warn(
                f"MonitoringHub: {', '.join(given)} no longer do anything (monitoring messages "
                f"travel over each executor's own connection) and can be removed",
                DeprecationWarning,
                stacklevel=2,
            )
        if logging_endpoint is not None:
            check_url(logging_endpoint)
        try:
            interval = float(resource_monitoring_interval)
        except (TypeError, ValueError):
            raise ValueError(
                f"MonitoringHub: resource_monitoring_interval must be a number of seconds, "
                f"not {resource_monitoring_interval!r}"
            ) from None
        if interval < 0:
            raise ValueError(
                f"MonitoringHub: resource_monitoring_interval must be 0 (no resource samples) "
                f"or a positive number of seconds, not {interval}"
            )
        self.hub_address = hub_address
        self.hub_port = hub_port
        self.hub_port_range = hub_port_range
        self.workflow_name = workflow_name
        self.workflow_version = workflow_version
        self.logging_endpoint = logging_endpoint
        self.monitoring_debug = monitoring_debug
        self.resource_monitoring_enabled = resource_monitoring_enabled
        self.resource_monitoring_interval = interval
        self._writer: WriterProcess | None = None
        self._dfk: DataFlowKernel | None = None
        # One wrapper per (function, sampling interval), the same object for every task, so an
        # executor serializes it once. The table holds wrappers weakly (one lives while a task
        # runs it); the RECENT_WRAPPERS most recently used are also held here, so a function
        # called again after its tasks ended keeps its wrapper, and memory stays bounded however
        # many functions a workflow makes.
        self._wrappers: weakref.WeakValueDictionary[tuple[int, float | None], MonitoredFunction] = (
            weakref.WeakValueDictionary()
        )
        self._recent: dict[tuple[int, float | None], MonitoredFunction] = {}
        self._last_wrapper: MonitoredFunction | None = None  # the one most recently used
        self._wrappers_lock = threading.Lock()
        self._how: dict[str, str] = {}  # executor label -> HERE, SAMPLE or ELSEWHERE
        self._live: dict[int, Any] = {}  # id -> future of thread tries reported as running
        #: the thread executors whose plain tasks the kernel starts quietly (see
        #: parsl.plugins.QUIET_START): filled when the workflow starts, before its first task
        self.PARSL_QUIET_START: set[str] = set()
        # serializes taking note of a quietly started task between the feeder (still running
        # after LIVE_RUNNING_AFTER) and the task's return, for tries longer than CLAIM_AFTER
        self._claim_lock = threading.Lock()
        # the feeder looks for quietly started tasks from id _mark up to _mark_end (the task
        # count at its previous batch: every such record is in dfk.tasks by now)
        self._mark = 0
        self._mark_end = 0
        self._start_lock = threading.Lock()
        self._failed = False
        self._close_log: Callable[[], None] | None = None
        if monitoring_debug:
            logger.setLevel(logging.DEBUG)

    # ----------------------------------------------------------------- start
    def _start(self, dfk: DataFlowKernel) -> WriterProcess | None:
        """Open the database and start the writer, once, on the first hook call."""
        if self._writer is not None or self._failed:
            return self._writer
        with self._start_lock:
            if self._writer is not None or self._failed:
                return self._writer
            from parsl_monitoring.logfile import open_monitoring_log
            from parsl_monitoring.writer_process import WriterProcess

            if self._close_log is None:
                self._close_log = open_monitoring_log(
                    dfk.run_dir, getattr(dfk.config, "initialize_logging", None), self.monitoring_debug
                )
            url = self.logging_endpoint or default_url(dfk)
            writer = WriterProcess(url, dfk.run_id, on_lost=self._writer_lost)
            writer.poll = self._running_now
            writer.workflow_started(self._workflow_row(dfk))
            try:
                writer.start()
            except Exception:
                logger.exception(
                    "Monitoring could not start its writer process; this workflow is not monitored"
                )
                self._failed = True
                return None
            if writer.lost is not None:  # it could not open the database: logged already
                self._failed = True
                return None
            self._dfk = dfk
            self._writer = writer
            logger.info(
                "Monitoring workflow %s into %s (writer process %s)", dfk.run_id, safe_url(url), writer.pid
            )
            return writer

    def _writer_lost(self) -> None:
        """The writer process could not open the database, or died: stop queueing for it."""
        self._failed = True
        self._writer = None
        with self._wrappers_lock:  # tasks still holding a wrapper run their function bare
            for wrapper in [*self._recent.values(), *self._wrappers.values()]:
                wrapper.local = None
                wrapper.parsl_monitoring_send = None

    def _workflow_row(self, dfk: DataFlowKernel) -> dict[str, Any]:
        import getpass
        import socket
        import sys
        from datetime import datetime

        began = dfk.time_began
        name = self.workflow_name
        if name is None:
            script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
            name = script if script and script != "-c" else "unnamed"
        try:
            user = getpass.getuser()
        except Exception:
            user = str(os.getuid()) if hasattr(os, "getuid") else "?"
        return {
            "run_id": dfk.run_id,
            "workflow_name": name,
            "workflow_version": self.workflow_version or str(datetime.fromtimestamp(began)),
            "time_began": began,
            "time_completed": None,
            "host": socket.gethostname(),
            "user": user,
            "rundir": os.path.abspath(dfk.run_dir),
            "tasks_failed_count": 0,
            "tasks_completed_count": 0,
        }

    # ----------------------------------------------------------------- hooks
    @hookimpl
    def parsl_dfk_started(self, dfk: DataFlowKernel) -> None:
        quiet = self.PARSL_QUIET_START
        quiet.clear()
        self._mark = self._mark_end = dfk.task_count
        if self._start(dfk) is not None:
            # a thread executor's plain tasks: nothing to wrap, nothing to hear of before they
            # return (added to in place: the kernel holds this set)
            # (not the kernel's internal executor: join apps go on to a joining state)
            quiet.update(
                label
                for label in list(dfk.executors)
                if label != INTERNAL_EXECUTOR_LABEL and self._wrapping(dfk, label) is HERE
            )

    @hookimpl
    def parsl_task_state_changed(
        self, dfk: DataFlowKernel, task: TaskRecord, old_state: States, new_state: States
    ) -> object:
        # WriterProcess.task_changed spelled out (one call fewer: this runs on every state change
        # of every task), plus what only the hub knows: launches told in prepare, thread tries
        # told as they return, and a new task's start time taken from its record
        writer = self._writer or self._start(dfk)
        if writer is None:
            return
        tid = task.id
        code = task.try_id << 8 | STATE_CODES[new_state]
        if task.untold:
            # Started quietly (PARSL_QUIET_START): its try returned, failed or was cancelled,
            # and this is the hub's first word of it, unless the feeder reported it as still
            # running (a try longer than LIVE_RUNNING_AFTER; the lock settles which one tells)
            now = _now()
            if now - task.time_invoked < CLAIM_AFTER:
                head = True
                task.untold = False
            else:
                with self._claim_lock:
                    head = task.untold
                    task.untold = False
            if code in _RECORD_CODES:  # try 0: code is the state
                writer._records[tid] = task
            started = getattr(task.exec_fu, "time_running", None)
            if head:
                label = task.executor
                by_name = writer.new_codes.get(label)
                entry = by_name.get(task.func_name) if by_name is not None else None
                if entry is None:
                    entry = self._new_code(dfk, writer, task.func_name, label)
                if started is not None:
                    writer.put_event(
                        _pack_whole(
                            tid,
                            entry[0],
                            task.time_invoked,
                            tid,
                            _LAUNCHED,
                            task.try_time_launched,
                            tid,
                            _RUNNING,
                            started,
                            tid,
                            _RUNNING_ENDED,
                            task.try_time_returned,
                            tid,
                            code,
                            now,
                        )
                    )
                else:  # cancelled before it ran
                    writer.put_event(
                        _pack_new_launched(
                            tid, entry[0], task.time_invoked, tid, _LAUNCHED, task.try_time_launched
                        )
                    )
                    writer.put_event(pack_event(tid, code, now))
            elif started is not None:
                writer.put_event(
                    _pack_ran(
                        tid, _RUNNING, started, tid, _RUNNING_ENDED, task.try_time_returned, tid, code, now
                    )
                )
            else:
                writer.put_event(pack_event(tid, code, now))
            return None
        if code == _PENDING:  # the task's first event (the kernel has its dependencies by now)
            if task.depends or task.kwargs or task.memoize:  # its record is read at the next batch
                writer.new_tasks.append(task)
                writer.put_event(pack_event(tid, code, task.time_invoked))  # set a moment ago
                return None
            # A plain task: its app name and executor, by index, are all its row needs besides
            # the event's time; no record to read
            label = task.executor
            by_name = writer.new_codes.get(label)
            entry = by_name.get(task.func_name) if by_name is not None else None
            if entry is None:
                entry = self._new_code(dfk, writer, task.func_name, label)
            new_code, here = entry
            if here:
                # A thread executor's task, launched by the kernel as soon as this returns
                # (no dependencies, not memoized): its launch is queued now, at this time,
                # and the kernel makes no call for it (LAUNCH_TOLD): no wrapper to add
                writer.put_event(_pack_new_launched(tid, new_code, task.time_invoked, tid, _LAUNCHED, _now()))
                return LAUNCH_TOLD
            writer.put_event(pack_event(tid, new_code, task.time_invoked))
            return None
        state = code & 255
        if state == _LAUNCHED and task.executor != INTERNAL_EXECUTOR_LABEL:
            # told in parsl_task_prepared already: the kernel calls this for such a launch only
            # when another plugin observes task states too
            return None
        depends = task.depends
        if depends:  # kept now: with garbage_collect the kernel clears it when the task ends
            writer._depends[tid] = depends
            writer._records[tid] = task
        elif state in _RECORD_CODES:
            writer._records[tid] = task
        if state in _RAN_CODES and self._how.get(task.executor) is HERE:
            # A thread executor's try returned: when it ran, from its future (see prepared),
            # and the return itself, in one call (pack_ran, spelled out)
            started = getattr(task.exec_fu, "time_running", None)
            if started is not None:
                try_code = code - state
                writer.put_event(
                    _pack_ran(
                        tid,
                        try_code | _RUNNING,
                        started,
                        tid,
                        try_code | _RUNNING_ENDED,
                        task.try_time_returned,
                        tid,
                        code,
                        _now(),
                    )
                )
                return None
        writer.put_event(pack_event(tid, code, _now()))
        return None

    def _new_code(
        self, dfk: DataFlowKernel, writer: WriterProcess, func_name: str, label: str
    ) -> tuple[int, bool]:
        """``(event code, on a thread executor)`` of new plain tasks of app ``func_name`` on
        executor ``label``, kept in ``writer.new_codes`` for the next ones."""
        how = self._how.get(label) or self._wrapping(dfk, label)
        entry = (writer.name_of((func_name, label)) << 8 | NEW_CODE, how is HERE)
        writer.new_codes.setdefault(label, {})[func_name] = entry
        return entry

    @hookimpl
    def parsl_task_prepared(self, dfk: DataFlowKernel, task: TaskRecord, submission: TaskSubmission) -> None:
        writer = self._writer or self._start(dfk)
        if writer is None:
            return
        # the try's launch, which the kernel makes just after this call (PARSL_LAUNCH_IN_PREPARE)
        writer.put_event(pack_event(task.id, task.try_id << 8 | _LAUNCHED, task.try_time_launched))
        how = self._how.get(task.executor)
        if how is None:
            how = self._wrapping(dfk, task.executor)
        if how is HERE:
            # A thread executor: no wrapper. Its futures say when each try began to run, and the
            # kernel's record when it returned; the state hook turns both into the try's
            # running and running_ended events as it returns (a wrapper, with the two ids to
            # carry to it, cost more per task than the rest of monitoring together), and the
            # feeder reports tries still running at each batch (see _running_now).
            return
        func = submission.func
        interval = self.resource_monitoring_interval if how is SAMPLE else None
        last = self._last_wrapper  # a run of tasks of one app: the same wrapper as last time
        if last is not None and last.func is func and last.interval == interval:
            wrapper = last
        else:
            wrapper = self._wrapper(dfk, writer, func, interval)
            self._last_wrapper = wrapper
        kwargs = submission.kwargs
        kwargs[TASK_KEY] = task.id
        kwargs[TRY_KEY] = task.try_id
        submission.func = wrapper

    def _running_now(self) -> bytes:
        """Packed ``running`` events of thread executor tries running for LIVE_RUNNING_AFTER
        seconds or more and not reported yet (the feeder calls this at each batch).

        A thread executor's try is otherwise told of when it returns (see the state hook): a
        long one shows as running in the dashboard while it runs all the same. The writer
        process writes its row once (the event at its return repeats the start time).
        """
        dfk = self._dfk
        if dfk is None:
            return b""
        now = time.time()
        seen: dict[int, Any] = {}
        out: list[bytes] = []
        if self.PARSL_QUIET_START:
            end, self._mark_end = self._mark_end, dfk.task_count
            self._untold_now(dfk, now - LIVE_RUNNING_AFTER, end, out)
        for label, how in list(self._how.items()):
            running = getattr(dfk.executors.get(label), "running", None) if how is HERE else None
            if running is None:
                continue
            for fut in running():
                key = id(fut)
                if key in self._live:  # reported in an earlier batch
                    seen[key] = fut
                    continue
                started = getattr(fut, "time_running", None)
                if started is None or now - started < LIVE_RUNNING_AFTER:
                    continue
                task = dfk.task_of_future(fut)
                if task is None or task.exec_fu is not fut or task.untold:  # not yet known as this try's
                    continue
                seen[key] = fut  # held: its id is not reused while it is in this table
                out.append(pack_event(task.id, task.try_id << 8 | RUNNING_LIVE_CODE, started))
        self._live = seen
        return b"".join(out)

    def _untold_now(self, dfk: DataFlowKernel, cutoff: float, end: int, out: list[bytes]) -> None:
        """Append to ``out`` the first events (new, launched) of quietly started tasks, with ids
        from ``_mark`` up to ``end``, invoked at ``cutoff`` or before and not yet returned.

        A thread executor's plain task is otherwise told of when it returns (see
        PARSL_QUIET_START): one queued behind long ones, or running long, is in the database
        all the same. Ids are visited once: ``_mark`` stops at the first task invoked after
        ``cutoff``.
        """
        tasks = dfk.tasks
        writer = self._writer
        if writer is None:
            return
        mark = self._mark
        launched = States.launched
        with self._claim_lock:
            while mark < end:
                task = tasks.get(mark)
                if task is not None:
                    if task.time_invoked > cutoff:
                        break
                    if task.untold and task.status is launched:
                        task.untold = False
                        label = task.executor
                        by_name = writer.new_codes.get(label)
                        entry = by_name.get(task.func_name) if by_name is not None else None
                        if entry is None:
                            entry = self._new_code(dfk, writer, task.func_name, label)
                        out.append(
                            _pack_new_launched(
                                mark, entry[0], task.time_invoked, mark, _LAUNCHED, task.try_time_launched
                            )
                        )
                    elif task.untold:  # still being launched: look again at the next batch
                        break
                mark += 1
        self._mark = mark

    def _wrapping(self, dfk: DataFlowKernel, label: str) -> str:
        """How tasks on executor ``label`` are wrapped: HERE (threads of this process), SAMPLE
        (another process, resources sampled) or ELSEWHERE (another process, not sampled)."""
        from parsl.executors.threads import ThreadPoolExecutor

        ex = dfk.executors.get(label)
        if isinstance(ex, ThreadPoolExecutor):  # its tasks share this process: nothing to sample
            how = HERE
        # as in Parsl, an interval of 0 turns resource sampling off
        elif (
            self.resource_monitoring_enabled
            and self.resource_monitoring_interval > 0
            and ex is not None
            and ex.monitor_resources()
        ):
            how = SAMPLE
        else:
            how = ELSEWHERE
        self._how[label] = how
        return how

    def _wrapper(
        self, dfk: DataFlowKernel, writer: WriterProcess, func: Callable[..., Any], interval: float | None
    ) -> MonitoredFunction:
        """The wrapper of ``func`` for this interval: the one made before, or a new one."""
        # A live wrapper keeps its function alive, so the function's id stays its own.
        key = (id(func), interval)
        with self._wrappers_lock:
            wrapper = self._recent.pop(key, None) or self._wrappers.get(key)
            if wrapper is None:
                wrapper = MonitoredFunction(func, dfk.run_id, interval)
                # In this process (thread executors) messages go straight to the writer; other
                # processes get their executor's channel instead (see remote.py).
                wrapper.parsl_monitoring_send = self._local_sink(writer)
                wrapper.local = writer.local_events()
                self._wrappers[key] = wrapper
            self._recent[key] = wrapper  # now the most recently used
            if len(self._recent) > RECENT_WRAPPERS:
                del self._recent[next(iter(self._recent))]
        return wrapper

    @hookimpl
    def parsl_executor_reported(
        self, dfk: DataFlowKernel, executor: str, messages: list[dict[str, Any]]
    ) -> None:
        writer = self._writer or self._start(dfk)
        if writer is not None:
            writer.add_messages(executor, messages)
            writer.wake()

    @hookimpl
    def parsl_dfk_stopped(self, dfk: DataFlowKernel) -> None:
        try:
            self._stop_writer(dfk)
        finally:
            close_log, self._close_log = self._close_log, None
            if close_log is not None:
                close_log()

    def _stop_writer(self, dfk: DataFlowKernel) -> None:
        writer = self._writer
        if writer is None:
            return
        if self.PARSL_QUIET_START:  # quietly started tasks that never returned
            out: list[bytes] = []
            self._untold_now(dfk, float("inf"), dfk.task_count, out)
            if out:
                writer.put_event(b"".join(out))
        writer.workflow_finished(
            {
                "time_completed": dfk.time_completed or time.time(),
                # Parsl's meanings: tasks that ran and succeeded / ran and failed (not memo hits,
                # not dependency failures)
                "tasks_completed_count": dfk.tasks_completed_count,
                "tasks_failed_count": dfk.tasks_failed_count,
            }
        )
        if not writer.close(FLUSH_TIMEOUT):
            logger.warning(
                "Monitoring database writes did not finish within %ss; some rows may be missing",
                FLUSH_TIMEOUT,
            )
        self._writer = None
        with self._wrappers_lock:
            self._recent.clear()
            self._wrappers.clear()
            self._last_wrapper = None
        self._live = {}

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _local_sink(writer: WriterProcess) -> Callable[[list[dict[str, Any]]], None]:
        return partial(writer.add_messages, None)

    @property
    def dbm_proc(self) -> WriterProcess | None:
        """The database writer process (Parsl's name for it): ``pid``, ``is_alive()``; None while
        there is none (before the workflow starts, after it ends, once the process was lost)."""
        return self._writer

    @property
    def url(self) -> str | None:
        """The database URL in use (None before the workflow starts, unless given)."""
        if self.logging_endpoint:
            return self.logging_endpoint
        return default_url(self._dfk) if self._dfk is not None else None


def default_url(dfk: DataFlowKernel) -> str:
    """``sqlite:///<Config.run_dir>/monitoring.db``: one database for all runs under run_dir."""
    base = getattr(dfk.config, "run_dir", None) or os.path.dirname(os.path.abspath(dfk.run_dir))
    return f"sqlite:///{os.path.abspath(base)}/monitoring.db"
