"""HTEX serializes each function once, and every process lets go of a function the workflow
let go of: the FunctionCache holds functions weakly and its FORGETs reach the workers."""

from __future__ import annotations

import gc
import sys

from parsl import python_app
from parsl_executor_htex.serialize import FunctionCache, loads


def test_a_function_is_serialized_once_and_forgotten_when_collected():
    cache = FunctionCache()

    def f(x):
        return x * 2

    fid, data, new = cache.lookup(f)
    assert new and loads(data)(4) == 8
    assert cache.lookup(f) == (fid, data, False)
    assert cache.serialized == 1 and len(cache) == 1
    del f
    gc.collect()
    assert len(cache) == 0
    assert list(cache.forgotten) == [fid]


def test_distinct_but_equal_callables_are_told_apart():
    class Same:
        def __eq__(self, other):
            return isinstance(other, Same)

        __hash__ = None  # unhashable: the cache keys by identity, not equality

        def __call__(self):
            return 1

    cache = FunctionCache()
    first, _, _ = cache.lookup(a := Same())
    second, _, new = cache.lookup(Same())
    assert new and first != second and cache.serialized == 2
    assert cache.lookup(a)[0] == first


class _Slotted:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __call__(self):
        return self.n


def test_a_callable_without_weakref_support_is_kept():
    cache = FunctionCache()
    s = _Slotted(3)
    fid, _, _ = cache.lookup(s)
    assert cache.lookup(s)[0] == fid
    del s
    gc.collect()
    assert len(cache) == 1 and not cache.forgotten
    other = _Slotted(4)  # may reuse the id of the first one's memory: must not be taken for it
    assert cache.lookup(other)[2] is True


@python_app
def inc(x):
    return x + 1


def test_a_walltime_app_is_serialized_once(htex_dfk):
    ex = htex_dfk.executors["htex"]
    before = ex._fcache.serialized
    futs = [inc(i, walltime=60) for i in range(50)]
    assert [f.result(timeout=60) for f in futs] == list(range(1, 51))
    assert ex._fcache.serialized == before + 1
    assert [inc(i, walltime=60).result(timeout=60) for i in range(3)] == [1, 2, 3]
    assert ex._fcache.serialized == before + 1
    inc(0, walltime=61).result(timeout=60)  # another walltime: one more function
    assert ex._fcache.serialized == before + 2


def worker_cache_size():
    """Run in a worker: how many functions the worker process has cached."""
    frame = sys._getframe()
    while frame is not None and frame.f_code.co_name != "run_worker":
        frame = frame.f_back
    assert frame is not None, "not called from parsl_executor_htex.worker.run_worker"
    return len(frame.f_locals["cache"])


def _adder(n):
    def add(x):
        return x + n

    return add


def test_workers_drop_the_functions_the_workflow_let_go_of(htex_dfk):
    ex = htex_dfk.executors["htex"]
    futs = [ex.submit(_adder(i), {}, 1) for i in range(200)]  # 200 distinct functions
    assert [f.result(timeout=60) for f in futs] == [1 + i for i in range(200)]
    del futs
    gc.collect()
    assert len(ex._fcache) < 10
    # The FORGETs leave with the next submission; the probes after it see the pruned caches.
    ex.submit(worker_cache_size, {}).result(timeout=60)
    sizes = [f.result(timeout=60) for f in [ex.submit(worker_cache_size, {}) for _ in range(8)]]
    assert max(sizes) <= 3, sizes
