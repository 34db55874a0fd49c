"""parsl.executors.execute_task runs what pack_apply_message packed, as Parsl's does."""

from __future__ import annotations

import pytest

from parsl.executors.execute_task import execute_task
from parsl.serialize import pack_apply_message


def join_words(*words: str, sep: str = " ") -> str:
    return sep.join(words)


def refuse(reason: str) -> None:
    raise PermissionError(reason)


def test_runs_the_packed_call_and_returns_its_result():
    assert execute_task(pack_apply_message(join_words, ("a", "b", "c"), {"sep": "-"})) == "a-b-c"


def test_the_function_s_exception_reaches_the_caller():
    with pytest.raises(PermissionError, match="not today"):
        execute_task(pack_apply_message(refuse, ("not today",), {}))
