"""The hub wraps each task function once and holds its wrappers weakly, keeping only the most
recently used ones alive between tasks."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

import parsl
import parsl_monitoring.hub as hub_module
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl_monitoring.remote import MonitoredFunction


@pytest.fixture
def monitored(tmp_path):
    cfg = Config(
        executors=[ThreadPoolExecutor(max_threads=2)],
        monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db"),
        run_dir=str(tmp_path / "runinfo"),
    )
    with parsl.load(cfg) as dfk:
        yield dfk.monitoring


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


def test_a_thread_task_runs_its_wrapper_with_the_ids_leading_and_no_private_keywords(monitored):
    from parsl_monitoring.remote import TASK_KEY, TRY_KEY

    dfk = parsl.dfk()
    submitted = []
    executor = dfk.executors["threads"]
    real_submit = executor.submit

    def spy(func, resource_specification, *args, **kwargs):
        submitted.append((func, args, kwargs))
        return real_submit(func, resource_specification, *args, **kwargs)

    executor.submit = spy
    try:
        fut = kw(1, y=2)
        assert fut.result() == 3
    finally:
        del executor.submit
    ((func, args, kwargs),) = submitted
    # the wrapper's own run_here, bound once per wrapper (no object made per task)
    assert isinstance(func.__self__, MonitoredFunction) and func.__func__ is MonitoredFunction.run_here
    assert func is func.__self__.here
    assert args == (fut.tid, 0, 1)  # the task and try ids, then the app's own arguments
    assert kwargs == {"y": 2}
    assert TASK_KEY not in kwargs and TRY_KEY not in kwargs
    # its two events reach the database with the kernel's (the writer writes every half second)
    import sqlite3

    db = sqlite3.connect(monitored.url.removeprefix("sqlite:///"), timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            rows = db.execute(
                "SELECT task_status_name, try_id FROM status WHERE task_id=?", (fut.tid,)
            ).fetchall()
        except sqlite3.OperationalError:  # the writer process has not made its tables yet
            rows = []
        if len(rows) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    db.close()
    assert sorted(rows) == sorted(
        [("pending", 0), ("launched", 0), ("running", 0), ("running_ended", 0), ("exec_done", 0)]
    )
