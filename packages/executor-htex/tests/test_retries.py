"""With Config(retries=1) a task whose worker is killed (WorkerLost) runs again and succeeds."""

from __future__ import annotations

import pytest

import parsl
from parsl import python_app


@python_app
def die_once(marker):
    import os
    import signal

    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return "second try"


@python_app
def double(x):
    return 2 * x


@pytest.fixture(scope="module")
def retrying_dfk(tmp_path_factory, htex_tools):
    before = htex_tools.processes()
    config = htex_tools.make_config(str(tmp_path_factory.mktemp("retries") / "runinfo"))
    config.retries = 1
    dfk = parsl.load(config)
    yield dfk
    dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)


def test_worker_lost_is_retried_and_succeeds(retrying_dfk, tmp_path):
    others = [double(i) for i in range(4)]
    fut = die_once(str(tmp_path / "marker"))
    assert fut.result(timeout=30) == "second try"
    assert fut.task_record.fail_count == 1
    assert [f.result(timeout=30) for f in others] == [0, 2, 4, 6]
