"""python_app: calling, dependencies, futures, failures, routing, resolvers, retries."""

from __future__ import annotations

import threading
import time
import traceback
import warnings
from concurrent.futures import Future

import pytest

import parsl
from parsl import python_app
from parsl.app.app import App
from parsl.app.errors import AppTimeout
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER, SHALLOW_DEPENDENCY_RESOLVER
from parsl.dataflow.errors import DependencyError
from parsl.dataflow.futures import AppFuture
from parsl.dataflow.states import States
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor


@python_app
def add(a, b=0):
    return a + b


@python_app()
def mul(a, b):
    return a * b


@python_app
def total(inputs=()):
    return sum(inputs)


@python_app
def echo(*args, **kwargs):
    return args, kwargs


@python_app
def boom(msg="bad"):
    raise ValueError(msg)


@python_app
def raise_with_cause():
    try:
        {}["missing"]
    except KeyError as e:
        raise RuntimeError("wrapped") from e


class MyError(Exception):
    pass


@python_app
def raise_custom(code):
    raise MyError(code)


@python_app
def ident(x):
    return x


@python_app
def thread_name():
    import threading

    return threading.current_thread().name


@python_app
def make_dict():
    return {"a": 1, "b": [10, 20]}


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


@python_app
def make_point(x, y):
    return Point(x, y)


@python_app
def busy(seconds, walltime=None):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.005)
    return "finished"


# ---------------------------------------------------------------- decorators
def test_decorator_without_and_with_parentheses(dfk):
    assert add(1, 2).result() == 3
    assert mul(3, 4).result() == 12


def test_decorated_app_keeps_name_and_doc(dfk):
    @python_app
    def documented(x):
        """Doc of the app."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Doc of the app."
    assert documented.__wrapped__(5) == 5  # the plain function is still reachable


def test_decorator_options_are_recorded():
    @python_app(cache=True, executors=["threads"], ignore_for_cache=["y"])
    def opts(x, y=1):
        return x

    assert opts.cache is True
    assert opts.executors == ["threads"]
    assert opts.ignore_for_cache == ["y"]


def test_args_and_kwargs(dfk):
    assert echo(1, "two", k=3).result() == ((1, "two"), {"k": 3})
    assert add(5, b=6).result() == 11
    assert add(a=7).result() == 7


def test_wrong_arguments_fail_in_the_future_not_at_call(dfk):
    fut = add(1, 2, 3)
    with pytest.raises(TypeError):
        fut.result()


# -------------------------------------------------------------- dependencies
def test_future_as_positional_and_keyword_argument(dfk):
    a = add(1, 1)
    b = add(a, b=add(2, 2))
    assert b.result() == 6


def test_futures_in_inputs(dfk):
    futs = [add(i, i) for i in range(10)]
    assert total(inputs=futs).result() == sum(2 * i for i in range(10))


def test_plain_concurrent_future_is_a_dependency(dfk):
    gate: Future = Future()
    fut = add(gate, 1)
    time.sleep(0.05)
    assert not fut.done()
    assert fut.task_status() == "pending"
    gate.set_result(41)
    assert fut.result(timeout=5) == 42


def test_chain(dfk):
    fut = add(0, 1)
    for _ in range(50):
        fut = add(fut, 1)
    assert fut.result() == 51


def test_fan_out_fan_in(dfk):
    leaves = [mul(i, i) for i in range(20)]
    mids = [add(leaves[i], leaves[i + 1]) for i in range(0, 20, 2)]
    assert total(inputs=mids).result() == sum(i * i for i in range(20))


def test_dependency_on_already_finished_future(dfk):
    a = add(2, 3)
    assert a.result() == 5
    assert add(a, a).result() == 10


# ------------------------------------------------------------------ AppFuture
def test_appfuture_attributes(dfk):
    fut = add(1, 2)
    assert isinstance(fut, AppFuture) and isinstance(fut, Future)
    assert fut.result() == 3
    assert isinstance(fut.tid, int)
    assert fut.task_record["id"] == fut.tid
    assert fut.task_record.id == fut.tid
    assert fut.task_record["func_name"] == "add"
    assert fut.task_record["status"] == States.exec_done
    assert fut.task_status() == "exec_done"
    assert fut.stdout is None and fut.stderr is None
    assert list(fut.outputs) == []
    assert fut.done() and not fut.cancelled()
    assert fut.cancel() is False  # finished: nothing to cancel (see test_failure_semantics.py)


def test_task_ids_are_sequential(dfk):
    futs = [add(i) for i in range(5)]
    ids = [f.tid for f in futs]
    assert ids == list(range(ids[0], ids[0] + 5))
    assert [f.result() for f in futs] == list(range(5))


def test_appfuture_stdout_stderr_echo_kwargs(dfk, tmp_path):
    @python_app
    def py_with_std(stdout=None, stderr=None):
        return 1

    out, err = str(tmp_path / "o.txt"), str(tmp_path / "e.txt")
    fut = py_with_std(stdout=out, stderr=err)
    assert fut.result() == 1
    assert fut.stdout == out and fut.stderr == err


def test_appfuture_outputs_are_datafutures(dfk, tmp_path):
    @python_app
    def write(outputs=()):
        with open(outputs[0], "w") as f:
            f.write("hi")
        return "ok"

    target = File(str(tmp_path / "out.txt"))
    fut = write(outputs=[target])
    assert len(fut.outputs) == 1
    df = fut.outputs[0]
    assert isinstance(df, DataFuture)
    assert df.tid == fut.tid
    assert df.result(timeout=5).filepath == target.filepath
    assert (tmp_path / "out.txt").read_text() == "hi"


def test_lifted_getitem(dfk):
    d = make_dict()
    a = d["a"]
    inner = d["b"][1]
    assert isinstance(a, AppFuture)
    assert a.result() == 1
    assert inner.result() == 20


def test_lifted_getitem_failure_propagates(dfk):
    d = make_dict()
    with pytest.raises(DependencyError):
        d["a"]["x"]["y"].result()
    with pytest.raises(KeyError):
        d["nope"].result()


def test_lifted_getattr(dfk):
    p = make_point(3, 4)
    x = p.x
    assert isinstance(x, AppFuture)
    assert x.result() == 3
    assert add(p.x, p.y).result() == 7
    with pytest.raises(AttributeError):
        p.nonexistent_attribute.result()


def test_private_attributes_are_not_lifted(dfk):
    p = make_point(1, 2)
    with pytest.raises(AttributeError):
        _ = p._private
    p.result()


def test_repr_names_task_and_state(dfk):
    gate: Future = Future()
    fut = ident(gate)
    r = repr(fut)
    assert "AppFuture" in r and "pending" in r
    gate.set_result(5)
    fut.result()
    r = repr(fut)
    assert "finished" in r and "returned int" in r
    bad = boom()
    with pytest.raises(ValueError):
        bad.result()
    assert "raised ValueError" in repr(bad)


# ----------------------------------------------------------------- failures
def test_exception_keeps_its_type_and_message(dfk):
    with pytest.raises(ValueError, match=r"^bad value$"):
        boom("bad value").result()
    err = raise_custom(7).exception()
    assert type(err) is MyError and err.args == (7,)


def test_exception_keeps_traceback_and_cause(dfk):
    fut = raise_with_cause()
    exc = fut.exception()
    assert isinstance(exc, RuntimeError)
    assert isinstance(exc.__cause__, KeyError)
    text = "".join(traceback.format_exception(exc))
    assert "raise_with_cause" in text
    assert "The above exception was the direct cause" in text
    assert "KeyError" in text
    try:
        fut.result()
    except RuntimeError as e:
        frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
        assert "raise_with_cause" in frames
    else:  # pragma: no cover
        pytest.fail("result() did not raise")


def test_dependency_error_names_failing_tasks(dfk):
    bad1 = boom("one")
    bad2 = boom("two")
    good = add(1, 1)
    dep = add(bad1, bad2)
    dep_on_good_and_bad = total(inputs=[good, bad1])
    exc = dep.exception()
    assert isinstance(exc, DependencyError)
    assert exc.task_id == dep.tid
    tids = [tid for _, tid in exc.dependent_exceptions_tids]
    assert tids == [f"task {bad1.tid}", f"task {bad2.tid}"]
    excs = [e for e, _ in exc.dependent_exceptions_tids]
    assert [type(e) for e in excs] == [ValueError, ValueError]
    assert [str(e) for e in excs] == ["one", "two"]
    assert f"task {dep.tid}" in str(exc)
    assert f"task {bad1.tid}" in str(exc)
    # the representative root cause is chained
    assert isinstance(exc.__cause__, ValueError)
    exc2 = dep_on_good_and_bad.exception()
    assert [tid for _, tid in exc2.dependent_exceptions_tids] == [f"task {bad1.tid}"]
    assert dep.task_status() == "dep_fail"
    assert dfk.tasks_dep_fail_count >= 2


def test_dependency_error_propagates_down_a_chain(dfk):
    bad = boom("root")
    mid = add(bad, 1)
    end = add(mid, 1)
    exc = end.exception()
    assert isinstance(exc, DependencyError)
    assert exc.dependent_exceptions_tids[0][1] == f"task {mid.tid}"
    assert isinstance(exc.dependent_exceptions_tids[0][0], DependencyError)
    # the root cause is found through the chain
    assert isinstance(exc.__cause__, ValueError) and str(exc.__cause__) == "root"
    assert f"task {mid.tid}" in str(exc) and f"task {bad.tid}" in str(exc)


def test_failed_task_does_not_affect_others(dfk):
    futs = []
    for i in range(30):
        futs.append(boom(str(i)) if i % 3 == 0 else add(i, 1))
    for i, f in enumerate(futs):
        if i % 3 == 0:
            with pytest.raises(ValueError, match=f"^{i}$"):
                f.result()
            assert f.task_status() == "failed"
        else:
            assert f.result() == i + 1
            assert f.task_status() == "exec_done"
    assert dfk.tasks_failed_count == 10
    assert dfk.tasks_completed_count == 20


# ------------------------------------------------------------------ walltime
def test_walltime_raises_app_timeout(dfk):
    t0 = time.monotonic()
    fut = busy(5, walltime=0.2)
    with pytest.raises(AppTimeout):
        fut.result(timeout=10)
    assert time.monotonic() - t0 < 3
    assert fut.task_status() == "failed"
    # the worker thread is free again
    assert add(1, 1).result(timeout=5) == 2


def test_walltime_not_reached(dfk):
    assert busy(0.01, walltime=5).result() == "finished"


def test_walltime_with_app_not_declaring_it(dfk):
    @python_app
    def quick():
        return "q"

    assert quick(walltime=2).result() == "q"


def test_walltime_must_be_positive_number(dfk):
    with pytest.raises(ValueError, match="walltime"):
        busy(0.1, walltime="soon")


# ------------------------------------------------------------------- routing
@pytest.fixture
def two_executors(load):
    return load(
        executors=[
            ThreadPoolExecutor(label="alpha", max_threads=2, thread_name_prefix="alpha"),
            ThreadPoolExecutor(label="beta", max_threads=2, thread_name_prefix="beta"),
        ]
    )


def test_executor_routing_by_label(two_executors):
    @python_app(executors=["alpha"])
    def on_alpha():
        import threading

        return threading.current_thread().name

    @python_app(executors=["beta"])
    def on_beta():
        import threading

        return threading.current_thread().name

    @python_app(executors="beta")
    def on_beta_str():
        import threading

        return threading.current_thread().name

    for _ in range(5):
        assert on_alpha().result().startswith("alpha")
        assert on_beta().result().startswith("beta")
        assert on_beta_str().result().startswith("beta")
    fut = on_alpha()
    fut.result()
    assert fut.task_record["executor"] == "alpha"


def test_executors_all_uses_only_user_executors(two_executors):
    names = {thread_name().result() for _ in range(40)}
    assert names and all(n.startswith(("alpha", "beta")) for n in names)
    assert any(n.startswith("alpha") for n in names) and any(n.startswith("beta") for n in names)


def test_unknown_executor_label_raises_at_call(two_executors):
    @python_app(executors=["gamma"])
    def lost():
        return 1

    with pytest.raises(ConfigurationError, match="gamma") as info:
        lost()
    assert isinstance(info.value, ValueError)
    # the kernel keeps working
    assert add(1, 2).result() == 3


# ------------------------------------------------------- data_flow_kernel=
def test_data_flow_kernel_argument(dfk):
    parsl.clear()  # not the current kernel any more: the app must use the one it was given

    @python_app(data_flow_kernel=dfk)
    def bound(x):
        return x + 1

    fut = bound(bound(1))
    assert fut.result() == 3
    assert fut.task_record["dfk"] is dfk


# ---------------------------------------------------------------- resolvers
@python_app
def describe(x):
    return x


def test_deep_dependency_resolver(load):
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    a, b, c = add(1), add(2), add(3)
    assert describe([a, [b, (c,)]]).result() == [1, [2, (3,)]]
    assert describe({"k": a, "nested": {"j": b}}).result() == {"k": 1, "nested": {"j": 2}}
    assert describe((a, b)).result() == (1, 2)
    assert describe({a, b}).result() == {1, 2}
    assert describe(x=[a, {"z": c}]).result() == [1, {"z": 3}]


def test_deep_resolver_waits_for_nested_futures(load):
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    gate: Future = Future()
    fut = describe([1, {"g": gate}])
    time.sleep(0.05)
    assert not fut.done()
    gate.set_result("open")
    assert fut.result(timeout=5) == [1, {"g": "open"}]


def test_deep_resolver_nested_failure_is_dependency_error(load):
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    bad = boom("deep")
    exc = describe({"x": [bad]}).exception()
    assert isinstance(exc, DependencyError)
    assert exc.dependent_exceptions_tids[0][1] == f"task {bad.tid}"


def test_shallow_resolver_leaves_nested_futures_alone(load):
    load(dependency_resolver=SHALLOW_DEPENDENCY_RESOLVER)
    a = add(1)
    out = describe([a]).result()
    assert isinstance(out, list) and out[0] is a
    out = describe({"k": a}).result()
    assert out["k"] is a


def test_default_resolver_is_shallow(dfk):
    a = add(1)
    a.result()
    out = describe([a]).result()
    assert out[0] is a


# ------------------------------------------------------------------ retries
def make_flaky(fail_times):
    calls = []

    @python_app
    def flaky():
        calls.append(1)
        if len(calls) <= fail_times:
            raise OSError(f"attempt {len(calls)} failed")
        return len(calls)

    return flaky, calls


def test_retries_make_flaky_app_succeed(load):
    load(retries=2)
    flaky, calls = make_flaky(2)
    fut = flaky()
    assert fut.result() == 3
    assert len(calls) == 3
    rec = fut.task_record
    assert rec["fail_count"] == 2
    assert rec["try_id"] == 2
    assert "attempt 2 failed" in rec["fail_history"][-1]
    assert fut.task_status() == "exec_done"


def test_retries_exhausted_raise_last_error(load):
    load(retries=2)
    flaky, calls = make_flaky(10)
    fut = flaky()
    with pytest.raises(OSError, match="attempt 3 failed"):
        fut.result()
    assert len(calls) == 3
    assert fut.task_status() == "failed"


def test_no_retries_by_default(dfk):
    flaky, calls = make_flaky(1)
    with pytest.raises(OSError):
        flaky().result()
    assert len(calls) == 1


def test_retry_handler_cost(load):
    seen = []

    def half_cost(exc, task_record):
        seen.append((type(exc).__name__, task_record["id"]))
        return 0.5

    load(retries=2, retry_handler=half_cost)
    flaky, calls = make_flaky(100)
    fut = flaky()
    with pytest.raises(OSError):
        fut.result()
    # cost 0.5 per failure: failures costing 0.5, 1.0, 1.5, 2.0 are retried, the 5th (2.5) is final
    assert len(calls) == 5
    assert seen == [("OSError", fut.tid)] * 5
    assert fut.task_record["fail_cost"] == 2.5


def test_retry_handler_can_refuse_retry(load):
    def never(exc, task_record):
        return 100

    load(retries=3, retry_handler=never)
    flaky, calls = make_flaky(1)
    with pytest.raises(OSError):
        flaky().result()
    assert len(calls) == 1


def test_retry_handler_that_raises_fails_the_task(load):
    def broken(exc, task_record):
        raise RuntimeError("handler bug")

    load(retries=3, retry_handler=broken)
    flaky, calls = make_flaky(1)
    fut = flaky()
    assert fut.exception(timeout=5) is not None
    assert len(calls) == 1


def test_dependents_wait_for_retried_task(load):
    load(retries=1)
    flaky, _calls = make_flaky(1)
    assert add(flaky(), 10).result() == 12


# ---------------------------------------------------------- garbage collect
def test_garbage_collect_forgets_finished_tasks(dfk):
    futs = [add(i) for i in range(10)]
    for f in futs:
        f.result()
    deadline = time.monotonic() + 5
    while dfk.tasks and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(f.tid in dfk.tasks for f in futs)
    assert futs[3].task_record["id"] == futs[3].tid  # the future keeps its record


def test_garbage_collect_false_keeps_tasks(load):
    dfk = load(garbage_collect=False)
    futs = [add(i) for i in range(5)]
    for f in futs:
        f.result()
    assert all(f.tid in dfk.tasks for f in futs)
    assert dfk.tasks[futs[0].tid]["status"] == States.exec_done


# ------------------------------------------------------------------ old App
def test_old_app_decorator_warns_and_works(dfk):
    with pytest.warns(DeprecationWarning):
        deco = App("python")

    @deco
    def old_style(x):
        return x * 3

    assert old_style(3).result() == 9


def test_old_app_decorator_with_dfk(dfk):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @App("python", dfk)
        def old_style(x):
            return -x

    assert old_style(2).result() == -2
    assert old_style(2).task_record["dfk"] is dfk


def test_old_app_rejects_bad_type():
    from parsl.app.errors import InvalidAppTypeError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(InvalidAppTypeError):
            App("fortran")


# ----------------------------------------------------------------- threads
def test_apps_run_concurrently(load):
    load(executors=[ThreadPoolExecutor(label="threads", max_threads=4)])
    barrier = threading.Barrier(4, timeout=5)

    @python_app
    def meet():
        barrier.wait()
        return True

    assert all(f.result(timeout=10) for f in [meet() for _ in range(4)])


def test_many_tasks_complete(dfk):
    futs = [add(i, 1) for i in range(2000)]
    assert sum(f.result() for f in futs) == sum(range(1, 2001))
    assert dfk.task_count >= 2000


def test_walltime_races_never_kill_worker_threads(dfk):
    @python_app
    def spin(n, walltime=None):
        x = 0
        for i in range(n):
            x += i
        return x

    futs = [spin(3000 * (i % 7 + 1), walltime=0.0005 * (i % 5 + 1)) for i in range(120)]
    for f in futs:
        exc = f.exception(timeout=30)
        assert exc is None or isinstance(exc, AppTimeout), repr(exc)
    workers = [t for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor-threads")]
    assert len(workers) == 4 and all(t.is_alive() for t in workers)
    time.sleep(0.05)  # an undelivered timeout would surface in a worker now
    assert [add(i, 1).result(timeout=10) for i in range(20)] == list(range(1, 21))
    assert all(t.is_alive() for t in workers)


def test_app_calling_sys_exit_fails_instead_of_hanging(dfk):
    @python_app
    def quitter():
        import sys

        sys.exit(3)

    exc = quitter().exception(timeout=10)
    assert isinstance(exc, SystemExit) and exc.code == 3
    assert add(1, 1).result(timeout=10) == 2


def test_dependency_error_pickles(dfk):
    import pickle

    exc = add(boom("p"), 1).exception()
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is DependencyError
    assert again.task_id == exc.task_id
    assert str(again) == str(exc)
    assert again.dependent_exceptions_tids[0][1] == exc.dependent_exceptions_tids[0][1]


def test_resource_specification_unsupported_on_threads(dfk):
    from parsl.executors.errors import InvalidResourceSpecification

    @python_app
    def needs_cores(parsl_resource_specification={}):  # noqa: B006 - the default as Parsl documents it
        return 1

    exc = needs_cores(parsl_resource_specification={"cores": 2}).exception()
    assert type(exc) is InvalidResourceSpecification  # as Parsl's ThreadPoolExecutor raises
    assert exc.invalid_keys == {"cores"}
    assert needs_cores().result() == 1
