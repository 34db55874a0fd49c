"""What runs next to a task on the worker: the monitoring wrapper and the resource sampler.

The hub wraps each app function once per workflow in a :class:`MonitoredFunction` (through the
kernel's ``parsl_task_prepared`` hook). Each try passes its ids in two private keyword arguments;
the wrapper reports ``task_running`` and ``task_running_ended`` around the call and, when asked,
samples the worker process (and its children) every ``interval`` seconds: a task that runs that
long is sampled on the way and at its end; shorter tasks share the process's samples (see
:class:`_Sampler`). In a worker, a task shorter than ``RUNNING_NOTICE_DELAY`` sends its two
messages as one packed record at its end (``parsl.monitoring.packed``): one bytes object to
pickle here and to carry, none for the workflow process's garbage collector.

Messages leave through ``parsl_monitoring_send``, the attribute of ParslExecutor's telemetry
contract (``parsl.executors.base.TASK_TELEMETRY_ATTRIBUTE``): the hub sets it in the workflow
process (an executor that calls wrappers there; a ``ThreadPoolExecutor``'s tasks are not wrapped),
and an executor's worker sets it to its own channel back to the
workflow (HTEX sends them over the same connection as results), so monitoring needs no port of
its own. When nobody set it, messages are dropped and the task runs as usual. A channel may
offer ``hold(messages)``: the wrapper hands it a task's last messages (those sent as the task
ends), which the executor then sends with the task's result instead of on their own (HTEX's
worker does); messages sent while the task runs (the sampler's) always go at once.

Imports nothing heavy at module level: workers unpickle this module for every monitored task.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "RESOURCE_FIELDS",
    "TASK_KEY",
    "TRY_KEY",
    "MonitoredFunction",
    "resource_message",
    "sample_process",
]

#: the private keyword arguments carrying the task id and the try id to the wrapper: two plain
#: ints rather than one tuple, because executors pickle plain arguments with pickle, which is
#: several times cheaper per task than the cloudpickle that anything else takes (HTEX)
TASK_KEY = "_parsl_monitoring_task"
TRY_KEY = "_parsl_monitoring_try"

#: a monitoring writer's queue for tasks run in its own process: ``(append, pack_event, running
#: code, running_ended code)``; see ``WriterProcess.local_events``
LocalEvents = tuple[Callable[[bytes], None], Callable[[int, int, float], bytes], int, int]

# Under "parsl.monitoring", like the hub and the writer, so the monitoring log file has it too.
logger = logging.getLogger("parsl.monitoring.remote")

#: the fixed part of a packed task run (``parsl.monitoring.packed.TASK_RUN``, spelled out here:
#: workers do not import parsl, a tenth of a second per process; a test checks they agree)
_TASK_RUN = struct.Struct("<qqdd")


def _pack_task_run(
    task_id: int, try_id: int, started: float, ended: float, hostname: str, block_id: str | None
) -> bytes:
    """A short task's run as one bytes item (read by ``parsl.monitoring.packed``)."""
    where = hostname.encode() if block_id is None else f"{hostname}\0{block_id}".encode()
    return _TASK_RUN.pack(task_id, try_id, started, ended) + where


_HOSTNAME: str | None = None


def _hostname() -> str:
    global _HOSTNAME
    if _HOSTNAME is None:
        _HOSTNAME = socket.gethostname()
    return _HOSTNAME


#: (the environment's block id variable as last read, the os.environ mapping it was read from)
_BLOCK: tuple[str | None, Any] = (None, None)


def _block_id() -> str | None:
    """``PARSL_WORKER_BLOCK_ID``, read once per process: a worker's pool sets it before the
    worker starts, and reading ``os.environ`` encodes the key and decodes the value each time."""
    global _BLOCK
    value, environ = _BLOCK
    if environ is not os.environ:
        value = os.environ.get("PARSL_WORKER_BLOCK_ID")
        _BLOCK = (value, os.environ)
    return value


class MonitoredFunction:
    """Runs an app function and reports when it ran (and, optionally, what it used)."""

    __slots__ = (
        "__name__",
        "__qualname__",
        "__weakref__",  # executors cache serialized functions weakly (HTEX's FunctionCache)
        "__wrapped__",
        "func",
        "interval",
        "local",
        "parsl_monitoring_send",
        "run_id",
    )

    def __init__(self, func: Callable[..., Any], run_id: str, interval: float | None) -> None:
        self.func = func
        self.run_id = run_id
        self.interval = interval  # None: no resource sampling
        self.parsl_monitoring_send: Callable[[list[dict[str, Any]]], None] | None = None
        # In the workflow's own process (an in-process executor other than a thread pool may
        # run many tasks at once there), where tasks report straight to the writer, without
        # messages: its queue, as ``(append,
        # pack_event, running code, running_ended code)`` (the writer's ``local_events()``).
        # None where it was unpickled: a worker process running one task at a time.
        self.local: LocalEvents | None = None
        self.__name__ = getattr(func, "__name__", "task")
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.__wrapped__ = func

    def __reduce__(self) -> tuple[Any, ...]:
        # The channel stays behind: the process that runs the task supplies its own.
        return (MonitoredFunction, (self.func, self.run_id, self.interval))

    def __repr__(self) -> str:
        return f"MonitoredFunction({self.func!r})"

    def run_here(self, task_id: int, try_id: int, /, *args: Any, **kwargs: Any) -> Any:
        """Run try ``try_id`` of task ``task_id`` in the workflow's own process (an executor
        other than ``ThreadPoolExecutor`` that calls the wrapper there: the hub does not wrap
        that one's tasks), its two events going straight into the writer's queue."""
        local = self.local
        if local is None:  # the writer was lost: run bare
            return self.func(*args, **kwargs)
        append, pack, running, ended = local
        code = try_id << 8
        append(pack(task_id, code | running, time.time()))
        try:
            return self.func(*args, **kwargs)
        finally:
            append(pack(task_id, code | ended, time.time()))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = kwargs.pop(TASK_KEY, None)
        try_id = kwargs.pop(TRY_KEY, None)
        if self.local is not None and task_id is not None:  # in the workflow's own process
            return self.run_here(task_id, try_id, *args, **kwargs)
        send = self.parsl_monitoring_send
        if send is None or task_id is None:
            return self.func(*args, **kwargs)
        # A task's last messages may wait for its result, when the channel offers that
        # (HTEX's worker: they then travel in the result's message, see ``hold`` below)
        last = getattr(send, "hold", send)
        started = time.time()
        sampler = _sampler()
        if sampler is None:
            ident = {"run_id": self.run_id, "task_id": task_id, "try_id": try_id}
            _send(send, [_running_message(ident, started)])
            try:
                return self.func(*args, **kwargs)
            finally:
                _send(last, [{"type": "task_running_ended", **ident, "timestamp": time.time()}])
        # In a worker the sampler thread says "running" once the task has run for a moment and
        # samples resources; a short task sends one packed record at its end instead.
        sampler.begin(self.run_id, task_id, try_id, started, self.interval, send)
        try:
            return self.func(*args, **kwargs)
        finally:
            _send(last, sampler.end(time.time()))


def _running_message(ident: dict[str, Any], started: float) -> dict[str, Any]:
    return {
        "type": "task_running",
        **ident,
        "timestamp": started,
        "hostname": _hostname(),
        "block_id": _block_id(),
    }


def _send(send: Callable[[list[dict[str, Any]]], None], messages: list[dict[str, Any]]) -> None:
    try:
        send(messages)
    except Exception:  # monitoring never fails a task
        logger.debug("Monitoring could not send %d messages; dropped", len(messages), exc_info=True)


# ----------------------------------------------------------------- sampling
def sample_process(proc: Any, base: dict[str, float], interval: float) -> dict[str, Any]:
    """One ``resource`` message for ``proc`` and its children, usage counted from ``base``."""
    import psutil

    procs = [proc]
    kids = _children(proc.pid)
    if kids is None:  # no /proc/<pid>/task/<tid>/children here: ask psutil (slower: scans all pids)
        try:
            procs += proc.children(recursive=True)
        except psutil.Error as e:
            logger.debug("Cannot list the children of process %d (%s); sampling it alone", proc.pid, e)
    else:
        for pid in kids:
            try:
                procs.append(psutil.Process(pid))
            except psutil.Error as e:  # it ended between the listing and now
                logger.debug("Child process %d not sampled: %s", pid, e)
    user = system = rss = vms = mem_pct = rd = wr = vol = invol = 0.0
    for p in procs:
        try:
            with p.oneshot():
                t = p.cpu_times()
                user += t.user
                system += t.system
                mi = p.memory_info()
                rss += mi.rss
                vms += mi.vms
                mem_pct += p.memory_percent()
                try:
                    io = p.io_counters()
                    rd += io.read_bytes
                    wr += io.write_bytes
                except (psutil.Error, AttributeError) as e:
                    # not on every platform (macOS), nor for another user's processes
                    logger.debug("No I/O counters for process %d: %r", p.pid, e)
                cs = p.num_ctx_switches()
                vol += cs.voluntary
                invol += cs.involuntary
        except psutil.Error as e:  # it ended while being sampled: its usage is gone with it
            logger.debug("Process %d not counted in this sample: %s", p.pid, e)
            continue
    try:
        status = proc.status()
    except psutil.Error:
        status = None
    try:
        cpu_num = str(proc.cpu_num())
    except (psutil.Error, AttributeError):
        cpu_num = None
    totals = dict(user=user, system=system, vms=vms, rss=rss, read=rd, write=wr, vol=vol, invol=invol)
    return resource_message(
        interval,
        base,
        totals,
        pid=proc.pid,
        memory_percent=mem_pct,
        children=len(procs) - 1,
        status=status,
        cpu_num=cpu_num,
    )


#: the fields of a ``resource`` message besides ``type`` and ``timestamp`` (the resource table's
#: columns besides the task and try ids), in column order
RESOURCE_FIELDS = (
    "resource_monitoring_interval",
    "psutil_process_pid",
    "psutil_process_memory_percent",
    "psutil_process_children_count",
    "psutil_process_time_user",
    "psutil_process_time_system",
    "psutil_process_memory_virtual",
    "psutil_process_memory_resident",
    "psutil_process_disk_read",
    "psutil_process_disk_write",
    "psutil_process_status",
    "psutil_cpu_num",
    "psutil_process_num_ctx_switches_voluntary",
    "psutil_process_num_ctx_switches_involuntary",
)


def resource_message(
    interval: float,
    base: dict[str, float],
    now: dict[str, float],
    *,
    pid: int,
    memory_percent: float | None,
    children: int,
    status: str | None = "running",
    cpu_num: str | None = None,
) -> dict[str, Any]:
    """A ``resource`` message from counters ``now`` (``user``, ``system``, ``vms``, ``rss``,
    ``read``, ``write``, ``vol``, ``invol``); cumulative ones are counted from ``base``."""

    def since(key: str) -> float:
        return now[key] - base.get(key, 0.0)

    return {
        "type": "resource",
        "timestamp": time.time(),
        "resource_monitoring_interval": interval,
        "psutil_process_pid": pid,
        "psutil_process_memory_percent": memory_percent,
        "psutil_process_children_count": float(children),
        "psutil_process_time_user": since("user"),
        "psutil_process_time_system": since("system"),
        "psutil_process_memory_virtual": now["vms"],
        "psutil_process_memory_resident": now["rss"],
        "psutil_process_disk_read": since("read"),
        "psutil_process_disk_write": since("write"),
        "psutil_process_status": status,
        "psutil_cpu_num": cpu_num,
        "psutil_process_num_ctx_switches_voluntary": since("vol"),
        "psutil_process_num_ctx_switches_involuntary": since("invol"),
    }


def _children(pid: int) -> list[int] | None:
    """Descendants of ``pid`` from Linux's per-thread ``children`` files; None where unsupported.

    Reading a few small files is about a hundred times cheaper than psutil's scan of every
    process on the node, which matters at the end of every short task.
    """
    found: list[int] = []
    todo = [pid]
    first = True
    while todo:
        p = todo.pop()
        try:
            threads = os.listdir(f"/proc/{p}/task")
        except OSError as e:
            if first:
                return None
            logger.debug("Descendants of process %s not listed (it ended?): %s", p, e)
            continue
        for t in threads:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = f.read().split()
            except FileNotFoundError:
                if first:
                    return None
                continue  # the thread ended since the listing
            except OSError as e:
                logger.debug("Children of thread %s of process %s not read: %s", t, p, e)
                continue
            for k in kids:
                found.append(int(k))
                todo.append(int(k))
        first = False
    return found


def _baseline(proc: Any) -> dict[str, float]:
    """The worker process's own counters before a task, so samples count only the task."""
    import psutil

    try:
        with proc.oneshot():
            t = proc.cpu_times()
            cs = proc.num_ctx_switches()
            try:
                io = proc.io_counters()
                rd, wr = float(io.read_bytes), float(io.write_bytes)
            except (psutil.Error, AttributeError):
                rd = wr = 0.0
            return {
                "user": t.user,
                "system": t.system,
                "read": rd,
                "write": wr,
                "vol": float(cs.voluntary),
                "invol": float(cs.involuntary),
            }
    except psutil.Error:
        return {}


#: how long a task runs before the sampler reports it running (shorter tasks report at the end)
RUNNING_NOTICE_DELAY = 0.2
#: how often the sampler thread looks at the running task
TICK = 0.05


def _self_counters() -> dict[str, float] | None:
    """This process's own counters, read cheaply (getrusage and /proc), for the common case
    of a task without child processes. None where /proc is missing."""
    import resource

    try:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with open("/proc/self/statm", "rb") as f:
            vms_pages, rss_pages = f.read().split()[:2]
        rd = wr = 0.0
        try:
            with open("/proc/self/io", "rb") as f:
                for line in f:
                    if line.startswith(b"read_bytes:"):
                        rd = float(line.split()[1])
                    elif line.startswith(b"write_bytes:"):
                        wr = float(line.split()[1])
        except OSError as e:  # /proc/self/io is missing under some kernels and containers
            logger.debug("No /proc/self/io; disk counters stay 0: %s", e)
    except (OSError, ValueError):
        return None
    page = _PAGE_SIZE
    return {
        "user": ru.ru_utime,
        "system": ru.ru_stime,
        "read": rd,
        "write": wr,
        "vol": float(ru.ru_nvcsw),
        "invol": float(ru.ru_nivcsw),
        "rss": float(rss_pages) * page,
        "vms": float(vms_pages) * page,
    }


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TOTAL_MEMORY: float | None = None


def _fast_sample(base: dict[str, float], interval: float) -> dict[str, Any] | None:
    """A ``resource`` message without psutil, when the process has no children."""
    global _TOTAL_MEMORY
    kids = _children(os.getpid())
    if kids is None or kids:
        return None
    now = _self_counters()
    if now is None:
        return None
    if _TOTAL_MEMORY is None:
        try:
            _TOTAL_MEMORY = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            _TOTAL_MEMORY = 0.0
    memory_percent = 100.0 * now["rss"] / _TOTAL_MEMORY if _TOTAL_MEMORY else None
    return resource_message(
        interval, base, now, pid=os.getpid(), memory_percent=memory_percent, children=0, cpu_num=_cpu_num()
    )


def _cpu_num() -> str | None:
    try:
        with open("/proc/self/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[36].decode()
    except (OSError, IndexError):
        return None


def _sample(proc: Any, base: dict[str, float], interval: float) -> dict[str, Any]:
    fast = _fast_sample(base, interval)
    return fast if fast is not None else sample_process(proc, base, interval)


def _rusage() -> Any:
    """This process's getrusage, cheap enough for the start of every task: the counters of a
    task that runs long are made from it by the sampler thread (:func:`_cpu_counters`)."""
    return _getrusage(_RUSAGE_SELF)


def _cpu_counters(ru: Any = None) -> dict[str, float]:
    """This process's CPU times and context switches, from ``ru`` (a getrusage result) or now
    (the disk counters, read from /proc, are left to the sampler)."""
    if ru is None:
        ru = _getrusage(_RUSAGE_SELF)
    return {
        "user": ru.ru_utime,
        "system": ru.ru_stime,
        "vol": float(ru.ru_nvcsw),
        "invol": float(ru.ru_nivcsw),
    }


def _io_counters() -> dict[str, float]:
    """This process's disk counters (``read``, ``write``); empty where /proc/self/io is missing."""
    counters = _self_counters()
    return {"read": counters["read"], "write": counters["write"]} if counters is not None else {}


try:
    from resource import RUSAGE_SELF as _RUSAGE_SELF
    from resource import getrusage as _getrusage
except ImportError:  # not on Windows: no baseline, a task's sample counts the process's whole life
    _RUSAGE_SELF = 0

    def _getrusage(_who: int) -> Any:
        return {}


class _Sampler:
    """One background thread per worker process, watching whichever monitored task is running.

    Tasks only set and clear ``current`` (no wake-ups on the task's path); the thread looks
    every ``TICK`` seconds. It sends the task's ``task_running`` message once the task has run
    for ``RUNNING_NOTICE_DELAY`` seconds and, when resource sampling is on, a ``resource``
    sample every interval. :meth:`end` returns what is still unsent plus the final sample.

    Resources are sampled per worker process, not per task: a task gets a final sample when it
    is the first to start after the process's last sample is an interval old (so every worker
    process reports at least once per interval while it runs tasks, and its first task always),
    or when it ran long enough to be sampled on the way. A stream of tasks shorter than the
    interval thus costs one sample per interval instead of one per task (reading /proc and
    psutil takes a few hundred microseconds, more than a no-op task itself).
    """

    def __init__(self) -> None:
        self.proc: Any = None
        try:
            import psutil

            self.proc = psutil.Process(os.getpid())
        except Exception as e:  # no psutil here: running/ended messages only
            logger.debug("No resource samples in this process (psutil: %r)", e)
            self.proc = None
        self.lock = threading.Lock()
        # when this process was last sampled (monotonic); never, to begin with
        self.last_sample = float("-inf")
        # [ident, running message or None, interval, send, base, started, next sample time,
        #  whether the task gets a final sample]
        self.current: list[Any] | None = None
        self.thread = threading.Thread(target=self._run, name="parsl-monitoring-sampler", daemon=True)
        self.thread.start()

    def begin(
        self,
        run_id: str,
        task_id: int,
        try_id: int,
        started: float,
        interval: float | None,
        send: Callable[..., None],
    ) -> None:
        """A task starts (``started``: its wall-clock time) in this process."""
        if self.proc is None:
            interval = None
        now = time.monotonic()
        base: Any = None
        due = False
        if interval:
            due = now - self.last_sample >= interval
            if due:  # this task's usage is sampled at its end: count it all from here
                base = _self_counters() or _baseline(self.proc)
            else:  # sampled only if it runs long: the counters are made a baseline on the way
                base = _rusage()
        # [run id, task id, try id, started (wall clock), whether "running" was sent, interval,
        #  send, base, started (monotonic), next sample time, whether the task gets a final sample]
        self.current = [
            run_id, task_id, try_id, started, False, interval, send, base, now,
            now + interval if interval else None, due,
        ]  # fmt: skip

    def end(self, ended: float) -> list[Any]:
        """The task's last messages: one packed record of its run (or, when ``task_running``
        went out while it ran, its ``task_running_ended``) and its final sample, if due."""
        with self.lock:  # never while the thread is sending for this task
            cur, self.current = self.current, None
        if cur is None:
            return []
        run_id, task_id, try_id, started, running_sent, interval, _send_fn, base, _mono, _next, due = cur
        out: list[Any] = []
        if due:
            self.last_sample = time.monotonic()
            try:
                sample = _sample(self.proc, base, interval)
                sample.update(run_id=run_id, task_id=task_id, try_id=try_id)
                out.append(sample)
            except Exception:  # monitoring never fails a task: the task ends without its last sample
                logger.debug("Final resource sample of task %s failed", task_id, exc_info=True)
        if running_sent:  # the end is the last message of a task, as ever
            out.append(
                {
                    "type": "task_running_ended",
                    "run_id": run_id,
                    "task_id": task_id,
                    "try_id": try_id,
                    "timestamp": ended,
                }
            )
        else:
            out.append(_pack_task_run(task_id, try_id, started, ended, _hostname(), _block_id()))
        return out

    def _run(self) -> None:
        while True:
            time.sleep(TICK)
            with self.lock:
                cur = self.current
                if cur is None:
                    continue
                run_id, task_id, try_id, started, running_sent, interval, send, base, mono, next_at, _due = (
                    cur
                )
                ident = {"run_id": run_id, "task_id": task_id, "try_id": try_id}
                now = time.monotonic()
                batch = []
                if not running_sent and now - mono >= RUNNING_NOTICE_DELAY:
                    batch.append(_running_message(ident, started))
                    cur[4] = True
                if interval and type(base) is not dict:
                    # a task that outlived a tick: its baseline, from the getrusage of its start
                    base = cur[7] = _cpu_counters(base)
                    base.update(_io_counters())
                    base.setdefault("read", 0.0)
                if next_at is not None and now >= next_at:
                    cur[9] = now + interval
                    cur[10] = True  # sampled on the way: sampled at its end too
                    self.last_sample = now
                    try:
                        batch.append({**_sample(self.proc, base, interval), **ident})
                    except Exception:  # skip this sample, try again at the next interval
                        logger.debug("Resource sample of task %s failed", task_id, exc_info=True)
                if batch:
                    _send(send, batch)


_SAMPLER: _Sampler | None = None
_SAMPLER_LOCK = threading.Lock()


def _sampler() -> _Sampler | None:
    global _SAMPLER
    if _SAMPLER is None:
        with _SAMPLER_LOCK:
            if _SAMPLER is None:
                try:
                    _SAMPLER = _Sampler()
                except Exception:  # no thread to be had here: tasks report running and ended only
                    logger.debug("Monitoring cannot start its sampler thread", exc_info=True)
                    return None
    return _SAMPLER
