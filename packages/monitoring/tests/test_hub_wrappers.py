"""The hub wraps each task function once and holds its wrappers weakly, keeping only the most
recently used ones alive between tasks; a thread executor's tasks run unwrapped, their running
rows made from their futures."""

from __future__ import annotations

import gc
import sqlite3
import time
import weakref
from concurrent.futures import Future

import pytest

import parsl
import parsl_monitoring.hub as hub_module
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.executors.base import ParslExecutor
from parsl.monitoring import MonitoringHub
from parsl_monitoring.remote import TASK_KEY, TRY_KEY, MonitoredFunction


class InlineExecutor(ParslExecutor):
    """Runs each task in the calling thread: an executor of this process that is no thread
    pool, so the hub wraps its tasks (as it does any executor but ThreadPoolExecutor)."""

    def __init__(self, label: str = "inline") -> None:
        super().__init__()
        self.label = label
        self.last: tuple | None = None  # the last submission (one: wrappers stay collectable)

    def start(self) -> None:
        pass

    def submit(self, func, resource_specification, *args, **kwargs):
        self.last = (func, args, dict(kwargs))
        fut: Future = Future()
        try:
            fut.set_result(func(*args, **kwargs))
        except BaseException as e:
            fut.set_exception(e)
        return fut

    def shutdown(self) -> None:
        pass


def _config(tmp_path, executor):
    return Config(
        executors=[executor],
        monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db"),
        run_dir=str(tmp_path / "runinfo"),
    )


@pytest.fixture
def monitored(tmp_path):
    with parsl.load(_config(tmp_path, InlineExecutor())) as dfk:
        yield dfk.monitoring


@pytest.fixture
def threads(tmp_path):
    with parsl.load(_config(tmp_path, ThreadPoolExecutor(max_threads=2))) as dfk:
        yield dfk


def _rows(url, query, args, enough, timeout=30):
    """``query``'s rows once ``enough(rows)`` (the writer writes every half second)."""
    db = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                rows = db.execute(query, args).fetchall()
            except sqlite3.OperationalError:  # the writer process has not made its tables yet
                rows = []
            if enough(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)
    finally:
        db.close()


def _status_rows(dfk, tid):
    """Task ``tid``'s (status name, timestamp, try id) rows, once its five thread-task rows are there."""
    return _rows(
        dfk.monitoring.url,
        "SELECT task_status_name, timestamp, try_id FROM status WHERE task_id=? ORDER BY timestamp",
        (tid,),
        lambda rows: len(rows) >= 5,
    )


@python_app
def inc(x):
    return x + 1


def test_one_wrapper_per_function_and_walltime(monitored):
    assert [inc(i, walltime=30).result() for i in range(5)] == [1, 2, 3, 4, 5]
    assert len(monitored._wrappers) == 1
    assert [inc(i).result() for i in range(2)] == [1, 2]
    assert len(monitored._wrappers) == 2  # the plain function has its own wrapper
    (wrapper,) = [w for w in monitored._wrappers.values() if w.func is not inc.func]
    assert wrapper.func is inc._variants[(30, int, frozenset({"walltime"}))]


def test_wrappers_are_held_weakly_and_the_recent_ones_bounded(monitored, monkeypatch):
    monkeypatch.setattr(hub_module, "RECENT_WRAPPERS", 3)
    refs = []
    for i in range(10):

        def body(x, i=i):
            return x + i

        app = python_app(body)
        assert app(1).result() == 1 + i
        refs.append(weakref.ref(app.func))
        del app, body
    gc.collect()
    assert len(monitored._recent) == 3
    assert len(monitored._wrappers) == 3

    def alive():
        gc.collect()
        return sum(r() is not None for r in refs)

    # the writer's queue holds finished tasks' records (and so their functions) until it drains
    deadline = time.monotonic() + 30
    while alive() > 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive() == 3  # only the three most recent functions live on


def test_a_monitored_function_can_be_weakly_referenced():
    w = MonitoredFunction(inc.func, "run", None)
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None


@python_app
def kw(x, *, y=0):
    return x + y


def test_a_wrapped_task_gets_its_ids_as_private_keywords_and_reports_running(monitored):
    executor = parsl.dfk().executors["inline"]
    fut = kw(1, y=2)
    assert fut.result() == 3
    func, args, kwargs = executor.last
    assert isinstance(func, MonitoredFunction) and func.func is kw.func
    assert args == (1,) and kwargs == {"y": 2, TASK_KEY: fut.tid, TRY_KEY: 0}
    rows = _rows(
        monitored.url,
        "SELECT task_status_name, try_id FROM status WHERE task_id=?",
        (fut.tid,),
        lambda rows: len(rows) >= 5,
    )
    assert sorted(rows) == sorted(
        [("pending", 0), ("launched", 0), ("running", 0), ("running_ended", 0), ("exec_done", 0)]
    )


def test_a_thread_task_runs_unwrapped_and_its_running_rows_come_from_its_future(threads):
    executor = threads.executors["threads"]
    submitted = []
    real_submit = executor.submit

    def spy(func, resource_specification, *args, **kwargs):
        fut = real_submit(func, resource_specification, *args, **kwargs)
        submitted.append((func, args, kwargs, fut))
        return fut

    executor.submit = spy
    try:
        fut = kw(1, y=2)
        assert fut.result() == 3
    finally:
        del executor.submit
    ((func, args, kwargs, exec_fu),) = submitted
    assert func is kw.func and args == (1,) and kwargs == {"y": 2}  # the app itself, untouched
    record = fut.task_record
    rows = _status_rows(threads, fut.tid)
    assert [(r[0], r[2]) for r in rows] == [
        ("pending", 0),
        ("launched", 0),
        ("running", 0),
        ("running_ended", 0),
        ("exec_done", 0),
    ]
    stamps = {name: ts for name, ts, _ in rows}
    # running when its thread took it, running_ended when its try returned, launched at launch
    assert stamps["running"] == _text(exec_fu.time_running)
    assert stamps["running_ended"] == _text(record.try_time_returned)
    assert stamps["launched"] == _text(record.try_time_launched)
    assert len(threads.monitoring._wrappers) == 0  # no wrapper made for it


def test_a_plain_thread_task_costs_the_kernel_one_call_at_its_return_and_has_every_row(threads):
    assert threads.plugins.launch_told_ok is True  # the hub is the only observer and preparer
    assert threads.plugins.quiet_start == {"threads"}  # the hub's set, filled at the start
    calls = []
    real_prepare, real_state = threads.plugins.prepare_hook, threads.plugins.state_hook

    def prepare_spy(dfk, task, submission):
        calls.append(("prepared", task.id))
        return real_prepare(dfk, task, submission)

    def state_spy(dfk, task, old, new):
        untold = task.untold
        result = real_state(dfk, task, old, new)
        calls.append((new.name, task.id, untold, task.untold))
        return result

    threads.plugins.prepare_hook, threads.plugins.state_hook = prepare_spy, state_spy
    try:
        fut = inc(1)  # no dependencies, no keyword arguments: a plain task
        assert fut.result() == 2
        later = inc(fut)  # one dependency: launched when it is done, and told then
        assert later.result() == 3
    finally:
        threads.plugins.prepare_hook, threads.plugins.state_hook = real_prepare, real_state
    # started quietly: the hub's first call is the return, and it clears task.untold
    assert [c for c in calls if c[1] == fut.tid] == [("exec_done", fut.tid, True, False)]
    assert ("prepared", later.tid) in calls and ("pending", later.tid, False, False) in calls
    record = fut.task_record
    rows = _status_rows(threads, fut.tid)
    assert [r[0] for r in rows] == ["pending", "launched", "running", "running_ended", "exec_done"]
    stamps = {name: ts for name, ts, _ in rows}
    # every time from the kernel's record, told at the return
    assert stamps["pending"] == _text(record.time_invoked)
    assert stamps["launched"] == _text(record.try_time_launched)
    tries = _rows(
        threads.monitoring.url,
        "SELECT task_executor, task_try_time_launched, task_try_time_running FROM try WHERE task_id=?",
        (fut.tid,),
        lambda rows: len(rows) == 1 and rows[0][2] is not None,
    )
    assert tries[0][0] == "threads" and tries[0][1] == stamps["launched"]
    task_row = _rows(
        threads.monitoring.url,
        "SELECT task_func_name, task_time_invoked, task_depends FROM task WHERE task_id IN (?, ?) ORDER BY task_id",
        (fut.tid, later.tid),
        lambda rows: len(rows) == 2,
    )
    assert task_row == [("inc", _text(record.time_invoked), ""), ("inc", task_row[1][1], str(fut.tid))]


def _text(ts):
    from datetime import datetime

    return str(datetime.fromtimestamp(ts))


@python_app
def flaky(path):
    import os

    if not os.path.exists(path):
        open(path, "w").close()
        raise ValueError("first try fails")
    return "second try"


def test_a_retried_thread_task_has_running_rows_for_each_try(tmp_path):
    cfg = _config(tmp_path, ThreadPoolExecutor(max_threads=2))
    cfg.retries = 1
    with parsl.load(cfg) as dfk:
        fut = flaky(str(tmp_path / "marker"))
        assert fut.result() == "second try"
        url = dfk.monitoring.url
    rows = _rows(
        url,
        "SELECT try_id, task_status_name FROM status WHERE task_id=? ORDER BY timestamp",
        (fut.tid,),
        lambda rows: len(rows) >= 10,
    )
    assert rows == [
        (0, "pending"),
        (0, "launched"),
        (0, "running"),
        (0, "running_ended"),
        (0, "fail_retryable"),
        (1, "pending"),
        (1, "launched"),
        (1, "running"),
        (1, "running_ended"),
        (1, "exec_done"),
    ]


@python_app
def sleepy(seconds):
    import time

    time.sleep(seconds)
    return seconds


def test_a_long_thread_task_shows_as_running_while_it_runs_and_has_one_running_row(threads):
    seconds = hub_module.LIVE_RUNNING_AFTER + 2.5
    fut = sleepy(seconds)
    url = threads.monitoring.url
    # reported by the feeder while it runs (within a second or so of LIVE_RUNNING_AFTER)
    rows = _rows(
        url,
        "SELECT task_status_name FROM status WHERE task_id=?",
        (fut.tid,),
        lambda rows: ("running",) in rows,
        timeout=seconds - 0.2,
    )
    started = fut.task_record.exec_fu.time_running  # read while it runs (the kernel lets it go)
    assert ("running",) in rows and not fut.done()
    assert fut.result() == seconds
    threads.cleanup()
    rows = _rows(
        url,
        "SELECT task_status_name, timestamp FROM status WHERE task_id=? ORDER BY timestamp",
        (fut.tid,),
        lambda rows: len(rows) >= 5,
    )
    assert [r[0] for r in rows] == ["pending", "launched", "running", "running_ended", "exec_done"]
    assert rows[2][1] == _text(started)


def test_a_thread_task_queued_behind_a_long_one_is_in_the_database_while_it_waits(tmp_path):
    # started quietly (the kernel tells the hub nothing until a task returns): the feeder
    # reports a task waiting longer than LIVE_RUNNING_AFTER as launched all the same
    seconds = hub_module.LIVE_RUNNING_AFTER + 2.5
    with parsl.load(_config(tmp_path, ThreadPoolExecutor(max_threads=1))) as dfk:
        long = sleepy(seconds)
        queued, cancelled = inc(1), inc(2)
        assert queued.task_record.untold
        url = dfk.monitoring.url
        rows = _rows(
            url,
            "SELECT task_id, task_status_name FROM status WHERE task_id IN (?, ?)",
            (queued.tid, cancelled.tid),
            lambda rows: len(rows) >= 4,
            timeout=seconds - 0.2,
        )
        assert not long.done() and not queued.done()
        assert sorted(rows) == sorted(
            [(t, s) for t in (queued.tid, cancelled.tid) for s in ("pending", "launched")]
        )
        assert cancelled.cancel()
        assert queued.result() == 2 and long.result() == seconds
    rows = {
        tid: [
            r[0]
            for r in _rows(
                url,
                "SELECT task_status_name FROM status WHERE task_id=? ORDER BY timestamp",
                (tid,),
                lambda rows, n=n: len(rows) >= n,
            )
        ]
        for tid, n in ((queued.tid, 5), (cancelled.tid, 3))
    }
    # each row once: the return adds only what the feeder had not said
    assert rows[queued.tid] == ["pending", "launched", "running", "running_ended", "exec_done"]
    assert rows[cancelled.tid] == ["pending", "launched", "failed"]
    tries = _rows(
        url,
        "SELECT task_id, try_id FROM try WHERE task_id IN (?, ?)",
        (queued.tid, cancelled.tid),
        lambda rows: len(rows) >= 2,
    )
    assert sorted(tries) == [(queued.tid, 0), (cancelled.tid, 0)]


@python_app
def nap(seconds):
    import time

    time.sleep(seconds)
    return seconds


def test_the_feeder_and_a_returning_task_tell_each_task_once(tmp_path, monkeypatch):
    # Tries returning as the feeder reports them running (thresholds shrunk so both race on
    # every batch): each task still has every row once, with its try's times
    import random

    import parsl_monitoring.writer_process as writer_process

    monkeypatch.setattr(hub_module, "LIVE_RUNNING_AFTER", 0.04)
    monkeypatch.setattr(hub_module, "CLAIM_AFTER", 0.02)
    monkeypatch.setattr(writer_process, "FEED_PERIOD", 0.01)
    rng = random.Random(7)
    told = {"feeder": bytearray(), "hooks": bytearray()}  # every event queued, by who queued it
    with parsl.load(_config(tmp_path, ThreadPoolExecutor(max_threads=4))) as dfk:
        writer = dfk.monitoring._writer
        poll, put = writer.poll, writer.put_event

        def polled():
            events = poll()
            told["feeder"].extend(events)
            return events

        def queued(events):
            told["hooks"].extend(events)
            put(events)

        writer.poll, writer.put_event = polled, queued
        futs = [nap(rng.uniform(0, 0.08)) for _ in range(300)]
        assert all(f.result() >= 0 for f in futs)
        url = dfk.monitoring.url
    tids = [f.tid for f in futs]
    heads = [
        tid
        for who in ("feeder", "hooks")
        for tid, code, _ in writer_process.EVENT.iter_unpack(told[who])
        if code & 255 == writer_process.NEW_CODE
    ]
    feeder_heads = {
        tid
        for tid, code, _ in writer_process.EVENT.iter_unpack(told["feeder"])
        if code & 255 == writer_process.NEW_CODE
    }
    assert len(feeder_heads) > 10  # the race was run: the feeder told of tasks still running
    assert sorted(heads) == sorted(tids)  # and each task's first events were queued once
    rows = _rows(
        url,
        f"SELECT task_id, task_status_name, COUNT(*) FROM status WHERE task_id IN ({','.join('?' * len(tids))}) "
        "GROUP BY task_id, task_status_name",
        tids,
        lambda rows: len(rows) >= 5 * len(tids),
    )
    counts = {(tid, name): n for tid, name, n in rows}
    for tid in tids:
        for name in ("pending", "launched", "running", "running_ended", "exec_done"):
            assert counts.get((tid, name)) == 1, (tid, name, counts.get((tid, name)))
    assert len(rows) == 5 * len(tids)
    tries = _rows(
        url,
        f"SELECT COUNT(*) FROM try WHERE task_try_time_running IS NOT NULL AND task_id IN ({','.join('?' * len(tids))})",
        tids,
        lambda rows: rows[0][0] >= len(tids),
    )
    assert tries == [(len(tids),)]
