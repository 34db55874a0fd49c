"""Futures made after many Events keep their Condition's attributes inline (CPython 3.11+):
``import parsl`` adds an RLock Condition's attribute names to the shared key table first."""

from __future__ import annotations

import subprocess
import sys

import pytest

COUNT = """
import gc, sys, threading
{first}
events = [threading.Event() for _ in range(40)]  # Lock-based Conditions, as threads and queues make
import concurrent.futures
futures = [concurrent.futures.Future() for _ in range(100)]
# instance dicts only: a class's namespace (LightFuture's) names _waiters too
print(sum(1 for o in gc.get_objects() if type(o) is dict and "_waiters" in o and "__module__" not in o))
"""


def _dicts(first: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", COUNT.format(first=first)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 gives every instance a dict")
def test_futures_made_after_many_events_have_no_condition_dicts():
    assert _dicts("") >= 100  # without parsl imported first, each Future's Condition has one
    assert _dicts("import parsl") == 0
