"""A function's memoization identity is cached without keeping the function alive."""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import weakref

from parsl.dataflow import memoization
from parsl.dataflow.memoization import _function_identity


def _expected(func) -> bytes:
    """The identity spelled out: module, qualified name and source of what ``func`` wraps."""
    key = getattr(func, "__wrapped__", func)
    name = f"{key.__module__}.{key.__qualname__}"
    try:
        src = inspect.getsource(key)
    except (OSError, TypeError):
        src = ""
    return hashlib.sha256((name + "\n" + src).encode()).digest()


def _make(n: int):
    def made(x):
        return x + n

    return made


def test_identity_is_module_name_and_source_and_the_cache_returns_it_again():
    f = _make(1)
    assert _function_identity(f) == _expected(f)
    assert _function_identity(f) == _expected(f)  # now from the cache
    assert f in memoization._fn_ids


def test_a_wrapper_has_the_identity_of_what_it_wraps():
    f = _make(2)

    @functools.wraps(f)
    def wrapper(*a):
        return f(*a)

    assert _function_identity(wrapper) == _function_identity(f)


def test_functions_made_and_dropped_are_not_kept_by_the_cache():
    refs = []
    for i in range(100):
        f = _make(i)
        _function_identity(f)
        refs.append(weakref.ref(f))
    del f
    gc.collect()
    assert all(r() is None for r in refs)
    assert not any(k.__qualname__.endswith("_make.<locals>.made") for k in list(memoization._fn_ids.keys()))


def test_a_partial_per_call_is_not_kept_either():
    ref = None
    for i in range(10):
        p = functools.partial(_make(i), 1)
        _function_identity(p)
        ref = weakref.ref(p)
    del p
    gc.collect()
    assert ref() is None


def test_callables_that_cannot_be_weakly_referenced_or_hashed_still_get_an_identity():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, x):
            return x

    assert _function_identity(len) == _function_identity(len)  # a builtin: no weak reference
    u = Unhashable()
    assert _function_identity(u) == _function_identity(u)
