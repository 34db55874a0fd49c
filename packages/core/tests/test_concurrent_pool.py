"""``parsl.concurrent.ParslPoolExecutor`` over real DataFlowKernels running ThreadPoolExecutors."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest

import parsl
from parsl.concurrent import ParslPoolExecutor
from parsl.config import Config
from parsl.dataflow.dflow import DataFlowKernelLoader
from parsl.dataflow.futures import AppFuture
from parsl.errors import NoDataFlowKernelError
from parsl.executors.threads import ThreadPoolExecutor


def inc(x):
    return x + 1


def double(x):
    return 2 * x


def add(a, b):
    return a + b


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad input {x}")
    return x


def wait_for(event, started=None):
    if started is not None:
        started.set()
    event.wait()
    return "released"


@parsl.python_app
def is_odd(x):
    return x % 2 == 1


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(threads=2):
        return Config(
            executors=[ThreadPoolExecutor(label="pool", max_threads=threads)],
            strategy="none",
            run_dir=str(tmp_path / "runinfo"),
        )

    return make


def test_exactly_one_of_config_or_dfk(config):
    with parsl.load(config()) as dfk, pytest.raises(ValueError, match="Specify only one of config or dfk"):
        ParslPoolExecutor(config=config(), dfk=dfk)
    with pytest.raises(ValueError, match="Must specify one of config or dfk"):
        ParslPoolExecutor()


def test_submit_returns_futures_concurrent_futures_accepts(config):
    with ParslPoolExecutor(config()) as pool:
        assert isinstance(pool, cf.Executor)
        futs = [pool.submit(inc, i) for i in range(20)]
        assert all(isinstance(f, AppFuture) and isinstance(f, cf.Future) for f in futs)
        done, not_done = cf.wait(futs)
        assert not not_done and len(done) == 20
        assert sorted(f.result() for f in cf.as_completed(futs)) == list(range(1, 21))
        assert pool.submit(add, 2, b=3).result() == 5


def test_map_keeps_input_order_and_counts_one_app_per_function(config):
    with ParslPoolExecutor(config()) as pool:
        assert pool.submit(inc, 1).result() == 2
        assert list(pool.map(inc, [1, 2, 3])) == [2, 3, 4]
        assert list(pool.map(inc, range(50), timeout=60)) == list(range(1, 51))
        assert list(pool.map(add, [1, 2, 3], [10, 20])) == [11, 22]  # shortest iterable wins
        assert pool.app_count == 2
        assert pool.get_app(inc) is pool.get_app(inc)
        assert list(pool.map(double, range(7), buffersize=2)) == [0, 2, 4, 6, 8, 10, 12]


def test_map_raises_the_calls_exception_in_order(config):
    with ParslPoolExecutor(config()) as pool:
        results = pool.map(fail_on, [1, 2, 3], [2, 2, 2])
        assert next(results) == 1
        with pytest.raises(ValueError, match="bad input 2"):
            next(results)


def test_map_timeout_raises_timeout_error(config):
    release = threading.Event()
    with ParslPoolExecutor(config()) as pool:
        results = pool.map(wait_for, [release], timeout=0.2)
        try:
            # cf.TimeoutError, as Executor.map raises: the builtin TimeoutError only from 3.11
            with pytest.raises(cf.TimeoutError):
                next(results)
        finally:
            release.set()  # the call was not cancelled: it finishes once released


def test_owned_kernel_is_cleaned_up_and_pool_refuses_work(config):
    pool = ParslPoolExecutor(config())
    dfk = pool._dfk
    assert pool.owns_dfk and parsl.dfk() is dfk
    with pool:
        fut = pool.submit(inc, 1)
    assert fut.result() == 2
    assert dfk.cleanup_called and DataFlowKernelLoader._dfk is None
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(inc, 1)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.map(inc, [1])
    pool.shutdown()  # a second shutdown is a no-op


def test_a_new_pool_can_load_after_the_last_one_shut_down(config):
    with ParslPoolExecutor(config()) as pool:
        assert pool.submit(inc, 1).result() == 2
    with ParslPoolExecutor(config()) as pool:
        assert pool.submit(inc, 2).result() == 3


def test_borrowed_kernel_is_never_cleaned_up(config):
    with parsl.load(config()) as dfk:
        with ParslPoolExecutor(dfk=dfk, executors=["pool"]) as pool:
            assert not pool.owns_dfk
            assert pool.submit(inc, 1).result() == 2
            assert pool.get_app(inc).executors == ["pool"]
        # leaving the with block of a borrowing pool does nothing (as in Parsl)
        assert pool.submit(inc, 5).result() == 6
        pool.shutdown(wait=True)
        assert not dfk.cleanup_called
        assert parsl.python_app(inc)(1).result() == 2  # the kernel still runs
        with pytest.raises(RuntimeError, match="shut down"):
            pool.submit(inc, 1)


def test_shutdown_of_borrowing_pool_waits_for_its_calls(config):
    release = threading.Event()
    with parsl.load(config()) as dfk:
        pool = ParslPoolExecutor(dfk=dfk)
        fut = pool.submit(wait_for, release)
        threading.Timer(0.2, release.set).start()
        pool.shutdown(wait=True)
        assert fut.done() and fut.result() == "released"


def test_futures_chain_into_apps_and_submits(config):
    with ParslPoolExecutor(config()) as pool:
        odd = pool.submit(inc, 10)
        assert is_odd(odd).result()
        even = pool.submit(double, odd)
        assert not is_odd(even).result()
        assert even.result() == 22


def test_cancel_futures_cancels_calls_not_started(config):
    release, started = threading.Event(), threading.Event()
    with parsl.load(config(threads=1)) as dfk:
        pool = ParslPoolExecutor(dfk=dfk)
        running = pool.submit(wait_for, release, started)
        started.wait()
        waiting = pool.submit(inc, running)  # waits for running's result: never started
        with pytest.warns(UserWarning, match="1 call.*already started"):
            pool.shutdown(wait=False, cancel_futures=True)
        assert waiting.cancelled()
        release.set()
        assert running.result() == "released"
