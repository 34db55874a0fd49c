"""Light futures behave as concurrent.futures Futures and make their condition only for a waiter."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import gc
import logging
import threading
import time

import pytest

from parsl.dataflow.lightfuture import LightFuture, SlimCondition, init_future


def _tracked_referents(fut):
    """The garbage-collected objects a future holds (its fields, and their fields' contents)."""
    seen = [o for o in gc.get_referents(fut) if gc.is_tracked(o) and o is not type(fut)]
    for o in list(seen):
        if isinstance(o, dict):  # the instance dict, where a Python version materialises one
            seen.remove(o)
            seen += [v for v in o.values() if gc.is_tracked(v)]
    return seen


def test_a_new_light_future_holds_no_tracked_object_where_a_future_holds_several():
    plain, light = cf.Future(), LightFuture()
    assert len(_tracked_referents(plain)) == 3  # its Condition, waiters list and callbacks list
    assert _tracked_referents(light) == []
    light.add_done_callback(print)
    assert len(_tracked_referents(light)) == 1  # the callbacks list, made for the first one
    light.set_result(1)
    assert light.result() == 1 and light.done() and light._cond is None  # nobody waited


def _script(fut):
    """Drive a future through everything a caller can do; return what each step gave."""
    out = []

    def step(name, fn, *args):
        try:
            out.append((name, fn(*args)))
        except BaseException as e:
            out.append((name, type(e).__name__))

    calls = []
    step("add_cb", fut.add_done_callback, lambda f: calls.append(("cb", f.done())))
    step("done", fut.done)
    step("running", fut.running)
    step("result_timeout", fut.result, 0.001)
    step("exception_timeout", fut.exception, 0.001)
    step("set_running", fut.set_running_or_notify_cancel)
    step("running2", fut.running)
    step("cancel_running", fut.cancel)
    step("set_result", fut.set_result, 7)
    step("set_result_again", fut.set_result, 8)
    step("set_exception_after", fut.set_exception, ValueError("x"))
    step("result", fut.result)
    step("exception", fut.exception)
    step("add_cb_after", fut.add_done_callback, lambda f: calls.append(("late", f.result())))
    step("set_running_after", fut.set_running_or_notify_cancel)
    out.append(("calls", calls))
    return out


def _script_failure(fut):
    out = []
    fut.set_exception(KeyError("k"))
    for name, fn in (("result", fut.result), ("exception", fut.exception), ("cancel", fut.cancel)):
        try:
            v = fn()
            out.append((name, type(v).__name__ if isinstance(v, BaseException) else v))
        except BaseException as e:
            out.append((name, type(e).__name__))
    out.append(("done", fut.done()))
    return out


def _script_cancel(fut):
    out = []
    calls = []
    fut.add_done_callback(lambda f: calls.append(f.cancelled()))
    out.append(fut.cancel())
    out.append(fut.cancel())
    out.append((fut.cancelled(), fut.done(), fut.running()))
    for fn in (fut.result, fut.exception, lambda: fut.set_result(1)):
        try:
            fn()
            out.append("no error")
        except BaseException as e:
            out.append(type(e).__name__)
    out.append(fut.set_running_or_notify_cancel())
    out.append(fut._state)
    out.append(calls)
    return out


@pytest.mark.parametrize("script", [_script, _script_failure, _script_cancel])
def test_every_method_gives_what_a_plain_future_gives(script):
    assert script(LightFuture()) == script(cf.Future())


def test_a_callback_that_raises_is_logged_and_the_others_still_run(caplog):
    fut = LightFuture()
    seen = []
    fut.add_done_callback(lambda f: 1 / 0)
    fut.add_done_callback(lambda f: seen.append(f.result()))
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        fut.set_result(3)
        fut.add_done_callback(lambda f: 1 / 0)  # already done: called now, logged the same way
    assert seen == [3]
    assert [r.getMessage().startswith("exception calling callback") for r in caplog.records] == [True, True]


def test_result_blocks_until_another_thread_sets_it():
    fut = LightFuture()
    threading.Timer(0.05, fut.set_result, args=(42,)).start()
    t0 = time.monotonic()
    assert fut.result(timeout=5) == 42
    assert time.monotonic() - t0 >= 0.04
    assert type(fut._cond) is SlimCondition  # the waiter made it
    with pytest.raises(cf.TimeoutError):
        LightFuture().result(timeout=0.01)
    failing = LightFuture()
    threading.Timer(0.02, failing.set_exception, args=(OSError("gone"),)).start()
    assert isinstance(failing.exception(timeout=5), OSError)


def test_a_waiter_racing_the_setter_is_always_woken():
    # every pair starts together, so some waiters make their condition while (or just after)
    # the setter checks for one; a lost wake-up shows as a waiter timing out
    rounds = 400
    futs = [LightFuture() for _ in range(rounds)]
    got = [None] * rounds
    barrier = threading.Barrier(2)

    def waiter():
        for i, f in enumerate(futs):
            barrier.wait()
            try:
                got[i] = f.result(timeout=10)
            except cf.TimeoutError:
                got[i] = "lost"

    t = threading.Thread(target=waiter)
    t.start()
    for i, f in enumerate(futs):
        barrier.wait()
        f.set_result(i)
    t.join(60)
    assert got == list(range(rounds))


def test_callbacks_added_while_another_thread_completes_run_exactly_once():
    def add(fut, go, calls):
        go.wait()
        for k in range(20):
            fut.add_done_callback(lambda f, k=k: calls.append(k))

    for _ in range(200):
        fut = LightFuture()
        calls: list[int] = []
        go = threading.Event()
        t = threading.Thread(target=add, args=(fut, go, calls))
        t.start()
        go.set()
        fut.set_result(None)
        t.join()
        assert sorted(calls) == list(range(20))


def test_wait_and_as_completed_take_light_futures():
    futs = [LightFuture() for _ in range(5)]

    def finish():
        for i, f in enumerate(futs):
            time.sleep(0.01)
            if i == 4:
                f.set_exception(ValueError(i))
            else:
                f.set_result(i)

    threading.Thread(target=finish).start()
    done, not_done = cf.wait(futs[:2], timeout=5, return_when=cf.ALL_COMPLETED)
    assert len(done) == 2 and not not_done
    first_error = cf.wait(futs, timeout=5, return_when=cf.FIRST_EXCEPTION)
    assert futs[4] in first_error.done
    assert sorted(f.result() for f in cf.as_completed(futs[:4], timeout=5)) == [0, 1, 2, 3]
    late = LightFuture()
    done, not_done = cf.wait([late], timeout=0.02)
    assert not done and not_done == {late}


def test_a_cancelled_light_future_wakes_wait_when_its_executor_notices():
    fut = LightFuture()
    waiting = threading.Thread(target=cf.wait, args=([fut],), kwargs={"timeout": 10})
    waiting.start()
    time.sleep(0.05)
    assert fut.cancel()
    assert fut.set_running_or_notify_cancel() is False  # what an executor does: wait() returns
    waiting.join(5)
    assert not waiting.is_alive()
    assert list(cf.as_completed([fut], timeout=1)) == [fut]


def test_asyncio_can_await_a_light_future():
    fut = LightFuture()

    async def main():
        wrapped = asyncio.wrap_future(fut)
        asyncio.get_running_loop().call_later(0.01, fut.set_result, "ok")
        return await wrapped

    assert asyncio.run(main()) == "ok"


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


def test_a_subclass_needs_no_init_and_init_future_names_a_wrong_argument():
    class Mine(LightFuture):
        def __init__(self):
            init_future(self)  # the earlier API: still accepted, does nothing
            self.extra = 1

    fut = Mine()
    fut.set_result("x")
    assert fut.result() == "x" and fut.extra == 1 and isinstance(fut, cf.Future)
    with pytest.raises(TypeError, match="LightFuture"):
        init_future(cf.Future())


def test_reading_the_internals_concurrent_futures_uses_makes_them():
    fut = LightFuture()
    assert fut._done_callbacks == [] and fut._waiters == []
    assert isinstance(fut._condition, threading.Condition) and fut._condition is fut._condition
    fut.set_result(5)  # with a condition now: the same outcome
    assert fut.result() == 5 and "finished returned int" in repr(fut)


def test_app_and_thread_executor_futures_are_light(dfk):
    from parsl import python_app

    @python_app
    def double(x):
        return 2 * x

    fut = double(21)
    assert fut.result() == 42
    assert isinstance(fut, LightFuture)
    done_first = double(5)
    cf.wait([done_first], timeout=10)  # wait() needs the condition as well
    assert done_first.result() == 10
    from parsl.executors import ThreadPoolExecutor

    pool = next(ex for ex in dfk.executors.values() if isinstance(ex, ThreadPoolExecutor))
    exec_fu = pool.submit(double.func, {}, 4)
    assert isinstance(exec_fu, LightFuture) and exec_fu.result(timeout=10) == 8
