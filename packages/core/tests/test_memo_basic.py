"""App caching (memoization) and checkpoints."""

from __future__ import annotations

import os
import time
from concurrent.futures import Future

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints, get_last_checkpoint

CALLS: list = []


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    yield


@python_app(cache=True)
def cached_square(x):
    CALLS.append(("square", x))
    return x * x


@python_app(cache=True)
def cached_cube(x):
    CALLS.append(("cube", x))
    return x * x * x


@python_app
def uncached_square(x):
    CALLS.append(("uncached", x))
    return x * x


@python_app(cache=True, ignore_for_cache=["label"])
def labelled(x, label=None):
    CALLS.append(("labelled", x, label))
    return x + 1


@python_app(cache=True)
def with_kwargs(a=0, b=0):
    CALLS.append(("kwargs", a, b))
    return a - b


@python_app(cache=True)
def ident(x):
    CALLS.append(("ident", repr(x)))
    return x


@python_app
def add(a, b):
    return a + b


@python_app(cache=True)
def cached_fail(x):
    CALLS.append(("fail", x))
    raise ValueError(f"failed {x}")


class Unhashable:
    pass


class Registered:
    def __init__(self, v):
        self.v = v


@id_for_memo.register(Registered)
def _id_registered(obj, output_ref=False):
    return id_for_memo(("Registered", obj.v))


def test_second_call_is_served_from_memo(dfk):
    first = cached_square(4)
    assert first.result() == 16
    second = cached_square(4)
    assert second.result() == 16
    assert CALLS == [("square", 4)]
    assert second.task_status() == "memo_done"
    assert second.task_record["from_memo"] is True
    assert first.task_status() == "exec_done"
    assert dfk.tasks_memo_completed_count == 1
    assert first.task_record["hashsum"] == second.task_record["hashsum"]


def test_different_arguments_run_again(dfk):
    assert [cached_square(i).result() for i in (1, 2, 1, 2, 3)] == [1, 4, 1, 4, 9]
    assert CALLS == [("square", 1), ("square", 2), ("square", 3)]


def test_different_functions_do_not_share_entries(dfk):
    assert cached_square(3).result() == 9
    assert cached_cube(3).result() == 27
    assert CALLS == [("square", 3), ("cube", 3)]


def test_arguments_of_different_types_do_not_collide(dfk):
    assert ident(1).result() == 1
    assert ident("1").result() == "1"
    assert ident(1.0).result() == 1.0
    assert ident([1]).result() == [1]
    assert ident((1,)).result() == (1,)
    assert len(CALLS) == 5


def test_uncached_app_always_runs(dfk):
    uncached_square(2).result()
    uncached_square(2).result()
    assert CALLS == [("uncached", 2), ("uncached", 2)]


def test_memo_uses_resolved_future_values(dfk):
    assert cached_square(add(1, 1)).result() == 4
    assert cached_square(2).result() == 4
    assert CALLS == [("square", 2)]


def test_ignore_for_cache(dfk):
    assert labelled(1, label="first").result() == 2
    assert labelled(1, label="second").result() == 2
    assert labelled(2, label="first").result() == 3
    assert CALLS == [("labelled", 1, "first"), ("labelled", 2, "first")]


def test_kwargs_order_does_not_matter(dfk):
    assert with_kwargs(a=5, b=2).result() == 3
    assert with_kwargs(b=2, a=5).result() == 3
    assert with_kwargs(a=2, b=5).result() == -3
    assert len(CALLS) == 2


def test_containers_are_hashed_by_value(dfk):
    ident({"a": [1, 2], "b": {3}}).result()
    ident({"b": {3}, "a": [1, 2]}).result()
    assert len(CALLS) == 1


def test_app_cache_false_disables_memoization(load):
    load(app_cache=False)
    cached_square(5).result()
    second = cached_square(5)
    assert second.result() == 25
    assert CALLS == [("square", 5), ("square", 5)]
    assert second.task_status() == "exec_done"


def test_unhashable_argument_fails_the_future_naming_the_type(dfk):
    fut = ident(Unhashable())
    exc = fut.exception()
    assert isinstance(exc, ValueError)
    assert "Unhashable" in str(exc)
    assert "memo" in str(exc)
    assert CALLS == []
    assert fut.task_status() == "failed"
    # other tasks are unaffected
    assert cached_square(6).result() == 36


def test_unhashable_argument_is_fine_without_cache(dfk):
    @python_app
    def takes_anything(x):
        return type(x).__name__

    assert takes_anything(Unhashable()).result() == "Unhashable"


def test_registered_type_is_hashable(dfk):
    assert ident(Registered(1)).result().v == 1
    assert ident(Registered(1)).result().v == 1
    assert ident(Registered(2)).result().v == 2
    assert len(CALLS) == 2


def test_failures_are_memoized_too(dfk):
    with pytest.raises(ValueError, match="failed 1"):
        cached_fail(1).result()
    with pytest.raises(ValueError, match="failed 1"):
        cached_fail(1).result()
    assert CALLS == [("fail", 1)]


def test_bash_app_cache_with_auto_logname(dfk, tmp_path):
    counter = tmp_path / "runs.txt"

    @bash_app(cache=True)
    def count(path, stdout=None):
        return f"echo run >> {path}; echo hello"

    first = count(str(counter), stdout=parsl.AUTO_LOGNAME)
    assert first.result() == 0
    second = count(str(counter), stdout=parsl.AUTO_LOGNAME)
    assert second.result() == 0
    assert counter.read_text() == "run\n"  # the generated log path did not change the memo key
    assert second.task_status() == "memo_done"
    assert open(first.stdout).read() == "hello\n"


# -------------------------------------------------------------- checkpoints
def _run_cached(load, run_dir, **kwargs):
    dfk = load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir=run_dir, strategy="none", **kwargs))
    results = [cached_square(i).result() for i in range(3)]
    return dfk, results


def test_checkpoint_task_exit_is_reused_by_next_run(load, run_dir):
    dfk, results = _run_cached(load, run_dir, checkpoint_mode="task_exit")
    assert results == [0, 1, 4]
    dfk.cleanup()
    assert len(CALLS) == 3
    checkpoints = get_all_checkpoints(run_dir)
    assert checkpoints == [os.path.join(os.path.abspath(run_dir), "000", "checkpoint")]
    CALLS.clear()
    dfk2, results2 = _run_cached(load, run_dir, checkpoint_files=checkpoints)
    assert results2 == [0, 1, 4]
    assert CALLS == []
    assert dfk2.tasks_memo_completed_count == 3


def test_checkpoint_dfk_exit_through_memoizer(load, run_dir):
    dfk, _ = _run_cached(load, run_dir, memoizer=BasicMemoizer(checkpoint_mode="dfk_exit"))
    dfk.cleanup()
    CALLS.clear()
    last = get_last_checkpoint(run_dir)
    assert len(last) == 1
    _run_cached(load, run_dir, memoizer=BasicMemoizer(checkpoint_files=last))
    assert CALLS == []


def test_manual_checkpoint(load, run_dir):
    dfk, _ = _run_cached(load, run_dir, checkpoint_mode="manual")
    ck = dfk.checkpoint()
    assert os.path.isdir(ck)
    assert os.path.getsize(os.path.join(ck, "tasks.pkl")) > 0
    dfk.cleanup()
    CALLS.clear()
    _run_cached(load, run_dir, checkpoint_files=[ck])
    assert CALLS == []


def _checkpointed_hashes(ck_dir):
    import pickle

    hashes = []
    with open(os.path.join(ck_dir, "tasks.pkl"), "rb") as f:
        while True:
            try:
                hashes.append(pickle.load(f)["hash"])
            except EOFError:
                return hashes


@pytest.mark.parametrize("mode", ["manual", None])
def test_checkpoint_of_given_tasks_writes_only_those(load, run_dir, mode):
    dfk = load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir=run_dir, checkpoint_mode=mode))
    futs = [cached_square(i) for i in range(3)]
    failed = cached_fail(7)
    assert [f.result() for f in futs] == [0, 1, 4]
    with pytest.raises(ValueError):
        failed.result()
    records = [f.task_record for f in futs]

    ck = dfk.checkpoint([records[1], failed.task_record])
    assert _checkpointed_hashes(ck) == [records[1]["hashsum"]]  # the failed task is skipped
    dfk.checkpoint([records[1]])  # already written: not written twice
    assert _checkpointed_hashes(ck) == [records[1]["hashsum"]]

    dfk.checkpoint()
    written = _checkpointed_hashes(ck)
    if mode is None:  # nothing is queued without a mode: only tasks named explicitly get written
        assert written == [records[1]["hashsum"]]
    else:
        assert sorted(written) == sorted(r["hashsum"] for r in records)
        assert len(written) == 3


def test_no_checkpoint_mode_writes_nothing_reusable(load, run_dir):
    dfk, _ = _run_cached(load, run_dir)
    dfk.cleanup()
    CALLS.clear()
    _run_cached(load, run_dir, checkpoint_files=get_all_checkpoints(run_dir))
    assert len(CALLS) == 3


def test_missing_checkpoint_dir_is_skipped(load, run_dir, tmp_path):
    _, results = _run_cached(load, run_dir, checkpoint_files=[str(tmp_path / "nowhere")])
    assert results == [0, 1, 4]
    assert len(CALLS) == 3


def test_result_is_in_the_memo_table_as_soon_as_the_future_completes(dfk):
    # a second call made right after the first result() must always be a memo hit
    for i in range(200):
        assert cached_square(1000 + i).result() == (1000 + i) ** 2
        again = cached_square(1000 + i)
        assert again.result() == (1000 + i) ** 2
        assert again.task_status() == "memo_done", i
    assert len(CALLS) == 200


def test_memo_entry_exists_before_done_callbacks_run(dfk):
    gate: Future = Future()
    first = cached_square(gate)
    # a slow done-callback delays whatever the kernel does after completing the future
    first.add_done_callback(lambda f: time.sleep(0.3))
    gate.set_result(12)
    assert first.result() == 144
    second = cached_square(12)
    assert second.result() == 144
    assert second.task_status() == "memo_done"
    assert CALLS == [("square", 12)]
