"""A worker dying mid-task fails that task with WorkerLost; the pool and other tasks carry on."""

from __future__ import annotations

import pytest

from parsl import python_app
from parsl_executor_htex import WorkerLost


@python_app
def die():
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


@python_app
def slow_square(x, delay=0.3):
    import time

    time.sleep(delay)
    return x * x


def test_worker_killed_mid_task_fails_only_that_task(htex_dfk):
    others = [slow_square(i) for i in range(4)]
    doomed = die()
    with pytest.raises(WorkerLost):
        doomed.result(timeout=30)
    assert [f.result(timeout=30) for f in others] == [0, 1, 4, 9]
    # the pool replaced the worker and carries on with both slots
    assert [f.result(timeout=30) for f in [slow_square(i, 0.05) for i in range(6)]] == [
        i * i for i in range(6)
    ]
