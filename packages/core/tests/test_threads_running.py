"""ThreadPoolExecutor tells when each task began to run and which ones run now; the kernel finds
the task of an executor's future. Telemetry reads both instead of wrapping every task."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from parsl import python_app
from parsl.dataflow.lightfuture import LightFuture
from parsl.executors import ThreadPoolExecutor


def test_a_future_says_when_its_thread_began_running_it_and_running_lists_it_meanwhile():
    ex = ThreadPoolExecutor(max_threads=2)
    ex.start()
    try:
        gate, started = threading.Event(), threading.Event()

        def held():
            started.set()
            gate.wait(10)
            return "done"

        before = time.time()
        fut = ex.submit(held, {})
        queued = ex.submit(held, {})
        third = ex.submit(held, {})  # waits for a thread: not running, no start time yet
        assert started.wait(10)
        deadline = time.monotonic() + 10
        while len(ex.running()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert set(ex.running()) == {fut, queued}
        assert before <= fut.time_running <= time.time()
        assert third.time_running is None and LightFuture.time_running is None
        gate.set()
        assert [f.result(10) for f in (fut, queued, third)] == ["done"] * 3
        assert third.time_running is not None and third.time_running >= fut.time_running
        deadline = time.monotonic() + 10
        while ex.running() and time.monotonic() < deadline:  # each thread clears its slot
            time.sleep(0.01)
        assert ex.running() == []
    finally:
        ex.shutdown()


def test_a_task_that_raises_leaves_the_running_list_too():
    ex = ThreadPoolExecutor(max_threads=1)
    ex.start()
    try:

        def boom():
            raise ValueError("no")

        fut = ex.submit(boom, {})
        assert isinstance(fut.exception(10), ValueError) and fut.time_running is not None
        deadline = time.monotonic() + 10
        while ex.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ex.running() == []
    finally:
        ex.shutdown()


@python_app
def wait_for(event):
    event.wait(10)
    return 7


def test_the_kernel_finds_the_task_of_an_executor_future(dfk):
    gate = threading.Event()
    app_fu = wait_for(gate)
    record = app_fu.task_record
    deadline = time.monotonic() + 10
    while record.exec_fu is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert dfk.task_of_future(record.exec_fu) is record
    assert dfk.task_of_future(Future()) is None  # not one of its tries
    ex = dfk.executors["threads"]
    while record.exec_fu not in ex.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [dfk.task_of_future(f) for f in ex.running()] == [record]
    gate.set()
    assert app_fu.result(10) == 7
