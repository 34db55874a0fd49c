"""An app called with ``walltime=`` (or with Parsl keywords its function does not declare)
submits the same wrapped function object every time, so executors can cache it; walltime is
checked in one place for python and bash apps."""

from __future__ import annotations

import pytest

import parsl
from parsl import bash_app, hookimpl, python_app
from parsl.app.errors import AppTimeout
from parsl.app.python import VARIANTS_PER_APP
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


class SubmittedFunctions:
    """Records the function object of every task the kernel launches."""

    def __init__(self):
        self.funcs = []

    @hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        if new_state.name == "launched":
            self.funcs.append(task.func)


@pytest.fixture
def submitted(tmp_path):
    obs = SubmittedFunctions()
    cfg = Config(executors=[ThreadPoolExecutor(max_threads=2)], observers=[obs], run_dir=str(tmp_path))
    with parsl.load(cfg):
        yield obs.funcs


@python_app
def inc(x):
    return x + 1


@python_app
def inc_declared(x, walltime=None):
    return x + 1


@python_app
def sleeper(seconds):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:  # a busy loop: the walltime interrupts it at once
        pass
    return seconds


def test_same_walltime_submits_the_same_function_object(submitted):
    assert [inc(i, walltime=30).result() for i in range(3)] == [1, 2, 3]
    assert inc(0, walltime=45).result() == 1
    assert inc(0).result() == 1
    first, second, third, other, plain = submitted
    assert first is second is third
    assert other is not first  # another walltime, another wrapper
    assert plain is inc.func  # no walltime: the function itself
    assert first.__wrapped__ is not None and first.__name__ == "inc"


def test_declared_walltime_is_cached_too(submitted):
    assert inc_declared(1, walltime=30).result() == 2
    assert inc_declared(2, walltime=30).result() == 3
    assert submitted[0] is submitted[1]
    assert submitted[0] is not inc_declared.func


def test_int_and_float_walltime_get_their_own_wrappers(submitted):
    inc(1, walltime=30).result()
    inc(1, walltime=30.0).result()
    assert submitted[0] is not submitted[1]


def test_cached_wrapper_still_enforces_its_walltime(submitted):
    assert sleeper(0, walltime=0.5).result() == 0
    with pytest.raises(AppTimeout, match=r"exceeded walltime: 0\.5 seconds"):
        sleeper(5, walltime=0.5).result()
    assert sleeper(0, walltime=0.5).result() == 0
    assert submitted[0] is submitted[1] is submitted[2]


def test_wrappers_per_app_are_bounded(submitted):
    @python_app
    def one(x):
        return x

    n = VARIANTS_PER_APP + 10
    futs = [one(i, walltime=100 + i) for i in range(n)]
    assert [f.result() for f in futs] == list(range(n))
    assert len(one._variants) == VARIANTS_PER_APP
    # the most recent ones are kept: calling again gives the same object
    one(0, walltime=100 + n - 1).result()
    assert submitted[-1] is submitted[n - 1]


@bash_app
def echo(x):
    return f"echo {x}"


@pytest.mark.parametrize("bad", [0, -1, True, "10", [1]])
def test_bad_walltime_is_refused_the_same_way_by_python_and_bash_apps(submitted, bad):
    with pytest.raises(ValueError, match=r"walltime=.*: use a positive number of seconds") as py:
        inc(1, walltime=bad)
    with pytest.raises(ValueError, match=r"walltime=.*: use a positive number of seconds") as sh:
        echo(1, walltime=bad)
    assert str(py.value) == str(sh.value)
    assert submitted == []
