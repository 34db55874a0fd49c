"""Light futures are concurrent.futures Futures in every way but the objects their Condition makes."""

from __future__ import annotations

import concurrent.futures as cf
import gc
import threading
import time

import pytest

from parsl.dataflow.lightfuture import LightFuture, SlimCondition, init_future


def test_init_future_sets_exactly_what_future_init_sets():
    # fails if a Python release gives Future.__init__ another attribute: init_future must follow
    plain, light = cf.Future(), LightFuture()
    assert sorted(vars(plain)) == sorted(vars(light))
    for name, value in vars(plain).items():
        if name != "_condition":
            assert getattr(light, name) == value, name
    assert isinstance(light._condition, threading.Condition)


def test_the_condition_binds_no_lock_methods_on_each_instance():
    plain, light = cf.Future(), LightFuture()
    assert {"acquire", "release", "_is_owned"} <= set(vars(plain._condition))
    assert set(vars(light._condition)) == {"_lock", "_waiters"}

    def tracked(fut):
        cond = fut._condition
        return [o for o in gc.get_referents(cond, *vars(cond).values()) if gc.is_tracked(o)]

    assert len(tracked(light)) < len(tracked(plain)) - 3


def test_result_blocks_until_another_thread_sets_it():
    fut = LightFuture()
    threading.Timer(0.05, fut.set_result, args=(42,)).start()
    t0 = time.monotonic()
    assert fut.result(timeout=5) == 42
    assert time.monotonic() - t0 >= 0.04
    with pytest.raises(cf.TimeoutError):
        LightFuture().result(timeout=0.01)


def test_exceptions_callbacks_and_cancel_behave_as_a_future():
    fut = LightFuture()
    seen = []
    fut.add_done_callback(lambda f: seen.append(f.exception()))
    fut.set_exception(ValueError("boom"))
    assert isinstance(seen[0], ValueError) and fut.done() and not fut.cancelled()
    with pytest.raises(ValueError, match="boom"):
        fut.result()
    other = LightFuture()
    assert other.cancel() and other.cancelled()
    with pytest.raises(cf.CancelledError):
        other.result()
    running = LightFuture()
    assert running.set_running_or_notify_cancel() and running.running() and not running.cancel()


def test_wait_and_as_completed_take_light_futures():
    futs = [LightFuture() for _ in range(5)]

    def finish():
        for i, f in enumerate(futs):
            time.sleep(0.01)
            f.set_result(i)

    threading.Thread(target=finish).start()
    done, not_done = cf.wait(futs[:2], timeout=5, return_when=cf.ALL_COMPLETED)
    assert len(done) == 2 and not not_done
    assert sorted(f.result() for f in cf.as_completed(futs, timeout=5)) == [0, 1, 2, 3, 4]
    late = LightFuture()
    done, not_done = cf.wait([late], timeout=0.02)
    assert not done and not_done == {late}


def test_slim_condition_waits_and_notifies_across_threads():
    cond = SlimCondition()
    box = []

    def producer():
        time.sleep(0.02)
        with cond:
            box.append(1)
            cond.notify_all()

    threading.Thread(target=producer).start()
    with cond:
        assert cond.wait_for(lambda: box, timeout=5)
    assert cond.acquire(timeout=1)
    assert cond.acquire(blocking=False)  # reentrant, as Future's RLock-based Condition is
    cond.release()
    cond.release()
    with pytest.raises(RuntimeError):
        cond.notify()  # not holding it: refused, as threading.Condition does


def test_a_subclass_can_use_init_future():
    class Mine(cf.Future):
        def __init__(self):
            init_future(self)
            self.extra = 1

    fut = Mine()
    fut.set_result("x")
    assert fut.result() == "x" and fut.extra == 1


def test_app_and_thread_executor_futures_are_light(dfk):
    from parsl import python_app

    @python_app
    def double(x):
        return 2 * x

    fut = double(21)
    assert fut.result() == 42
    assert type(fut._condition) is SlimCondition
    from parsl.executors import ThreadPoolExecutor

    pool = next(ex for ex in dfk.executors.values() if isinstance(ex, ThreadPoolExecutor))
    exec_fu = pool.submit(double.func, {}, 4)
    assert exec_fu.result(timeout=10) == 8 and type(exec_fu._condition) is SlimCondition
