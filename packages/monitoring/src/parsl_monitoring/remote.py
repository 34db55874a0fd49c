"""What runs next to a task on the worker: the monitoring wrapper and the resource sampler.

The hub wraps each app function once per workflow in a :class:`MonitoredFunction` (through the
kernel's ``parsl_task_launching`` hook). Each try passes its ids in a private keyword argument;
the wrapper reports ``task_running`` and ``task_running_ended`` around the call and, when asked,
samples the worker process (and its children) with psutil every ``interval`` seconds and once at
the end.

Messages leave through ``parsl_monitoring_send``: the hub sets it in the workflow process (thread
executors), and an executor's worker sets it to its own channel back to the workflow (HTEX
sends them over the same connection as results), so monitoring needs no port of its own. When
nobody set it, messages are dropped and the task runs as usual.

Imports nothing heavy at module level: workers unpickle this module for every monitored task.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any, Callable

__all__ = ["MonitoredFunction", "TASK_KEY", "sample_process"]

#: the private keyword argument carrying ``(task_id, try_id)`` to the wrapper
TASK_KEY = "_parsl_monitoring_task"

_HOSTNAME: str | None = None


def _hostname() -> str:
    global _HOSTNAME
    if _HOSTNAME is None:
        _HOSTNAME = socket.gethostname()
    return _HOSTNAME


class MonitoredFunction:
    """Runs an app function and reports when it ran (and, optionally, what it used)."""

    __slots__ = ("func", "run_id", "interval", "parsl_monitoring_send", "local", "__name__", "__qualname__",
                 "__wrapped__")

    def __init__(self, func: Callable[..., Any], run_id: str, interval: float | None) -> None:
        self.func = func
        self.run_id = run_id
        self.interval = interval  # None: no resource sampling
        self.parsl_monitoring_send: Callable[[list[dict[str, Any]]], None] | None = None
        # True in the workflow's own process (thread executors run many tasks at once there);
        # False where it was unpickled: a worker process running one task at a time.
        self.local = False
        self.__name__ = getattr(func, "__name__", "task")
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.__wrapped__ = func

    def __reduce__(self) -> tuple[Any, ...]:
        # The channel stays behind: the process that runs the task supplies its own.
        return (MonitoredFunction, (self.func, self.run_id, self.interval))

    def __repr__(self) -> str:
        return f"MonitoredFunction({self.func!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id, try_id = kwargs.pop(TASK_KEY, (None, None))
        send = self.parsl_monitoring_send
        if send is None or task_id is None:
            return self.func(*args, **kwargs)
        ident = {"run_id": self.run_id, "task_id": task_id, "try_id": try_id}
        running = {"type": "task_running", **ident, "timestamp": time.time(), "hostname": _hostname(),
                   "block_id": os.environ.get("PARSL_WORKER_BLOCK_ID")}
        sampler = None if self.local else _sampler()
        if sampler is None:
            _send(send, [running])
            try:
                return self.func(*args, **kwargs)
            finally:
                _send(send, [{"type": "task_running_ended", **ident, "timestamp": time.time()}])
        # In a worker the sampler thread says "running" once the task has run for a moment (a
        # short task sends one message at its end instead of two) and samples resources.
        sampler.begin(ident, running, self.interval, send)
        try:
            return self.func(*args, **kwargs)
        finally:
            final = sampler.end()
            final.append({"type": "task_running_ended", **ident, "timestamp": time.time()})
            _send(send, final)


def _send(send: Callable[[list[dict[str, Any]]], None], messages: list[dict[str, Any]]) -> None:
    try:
        send(messages)
    except Exception:  # monitoring never fails a task
        pass


# ----------------------------------------------------------------- sampling
def sample_process(proc: Any, base: dict[str, float], interval: float) -> dict[str, Any]:
    """One ``resource`` message for ``proc`` and its children, usage counted from ``base``."""
    import psutil

    procs = [proc]
    kids = _children(proc.pid)
    if kids is None:  # no /proc/<pid>/task/<tid>/children here: ask psutil (slower: scans all pids)
        try:
            procs += proc.children(recursive=True)
        except psutil.Error:
            pass
    else:
        for pid in kids:
            try:
                procs.append(psutil.Process(pid))
            except psutil.Error:
                pass
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
                except (psutil.Error, AttributeError):
                    pass
                cs = p.num_ctx_switches()
                vol += cs.voluntary
                invol += cs.involuntary
        except psutil.Error:
            continue
    try:
        status = proc.status()
    except psutil.Error:
        status = None
    try:
        cpu_num = str(proc.cpu_num())
    except (psutil.Error, AttributeError):
        cpu_num = None
    return {
        "type": "resource", "timestamp": time.time(), "resource_monitoring_interval": interval,
        "psutil_process_pid": proc.pid, "psutil_process_memory_percent": mem_pct,
        "psutil_process_children_count": float(len(procs) - 1),
        "psutil_process_time_user": user - base.get("user", 0.0),
        "psutil_process_time_system": system - base.get("system", 0.0),
        "psutil_process_memory_virtual": vms, "psutil_process_memory_resident": rss,
        "psutil_process_disk_read": rd - base.get("read", 0.0),
        "psutil_process_disk_write": wr - base.get("write", 0.0),
        "psutil_process_status": status, "psutil_cpu_num": cpu_num,
        "psutil_process_num_ctx_switches_voluntary": vol - base.get("vol", 0.0),
        "psutil_process_num_ctx_switches_involuntary": invol - base.get("invol", 0.0),
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
        except OSError:
            if first:
                return None
            continue
        for t in threads:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = f.read().split()
            except FileNotFoundError:
                if first:
                    return None
                continue
            except OSError:
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
            return {"user": t.user, "system": t.system, "read": rd, "write": wr,
                    "vol": float(cs.voluntary), "invol": float(cs.involuntary)}
    except psutil.Error:
        return {}


#: how long a task runs before the sampler reports it running (shorter tasks report at the end)
RUNNING_NOTICE_DELAY = 0.2


class _Sampler:
    """One background thread per worker process, watching whichever monitored task is running.

    It sends the task's ``task_running`` message once the task has run for
    ``RUNNING_NOTICE_DELAY`` seconds and, when resource sampling is on, a ``resource`` sample
    every interval. :meth:`end` returns what is still unsent plus the final sample.
    """

    def __init__(self) -> None:
        self.proc: Any = None
        try:
            import psutil
            self.proc = psutil.Process(os.getpid())
        except Exception:  # no psutil here: running/ended messages only
            self.proc = None
        self.cond = threading.Condition()
        self.current: list[Any] | None = None  # [ident, running message or None, interval, send, base]
        self.generation = 0
        self.thread = threading.Thread(target=self._run, name="parsl-monitoring-sampler", daemon=True)
        self.thread.start()

    def begin(self, ident: dict[str, Any], running: dict[str, Any], interval: float | None,
              send: Callable[..., None]) -> None:
        base = _baseline(self.proc) if interval and self.proc is not None else {}
        with self.cond:
            self.current = [ident, running, interval if self.proc is not None else None, send, base]
            self.generation += 1
            self.cond.notify()

    def end(self) -> list[dict[str, Any]]:
        with self.cond:
            cur, self.current = self.current, None
            self.generation += 1
            self.cond.notify()
        if cur is None:
            return []
        ident, running, interval, _send_fn, base = cur
        out = [running] if running is not None else []
        if interval:
            try:
                out.append({**sample_process(self.proc, base, interval), **ident})
            except Exception:
                pass
        return out

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.current is None:
                    self.cond.wait()
                cur, gen = self.current, self.generation
                ident, running, interval, send, base = cur
                if running is not None:
                    wait = RUNNING_NOTICE_DELAY if not interval else min(RUNNING_NOTICE_DELAY, interval)
                elif interval:
                    wait = interval
                else:
                    wait = None  # nothing more to do for this task: sleep until the next one
                if wait is None:
                    while self.generation == gen:
                        self.cond.wait()
                    continue
                self.cond.wait(wait)
                if self.current is not cur or self.generation != gen:
                    continue  # the task ended; end() sent what was left
                batch = []
                if running is not None:
                    batch.append(running)
                    cur[1] = None
            if interval and (running is None or wait >= interval):
                try:
                    batch.append({**sample_process(self.proc, base, interval), **ident})
                except Exception:
                    pass
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
                except Exception:  # psutil missing or unusable here: no resource samples
                    return None
    return _SAMPLER
