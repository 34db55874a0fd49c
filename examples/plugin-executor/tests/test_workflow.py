"""SubprocessExecutor as a user sees it: found through the plugin entry point, runs workflows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl_example_executor import SubprocessExecutor, WorkerLost


@pytest.fixture
def dfk(tmp_path):
    executor = SubprocessExecutor(label="sub", workers=2)
    with parsl.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), strategy="none")) as d:
        yield d


@python_app
def where() -> tuple[int, str | None]:
    import os

    return os.getpid(), os.environ.get("PARSL_WORKER_RANK")


@python_app
def die() -> None:
    import os

    os._exit(7)


@bash_app
def rank_to(stdout=None):
    return "echo rank=$PARSL_WORKER_RANK"


def test_tasks_run_in_the_worker_subprocesses(dfk):
    executor = dfk.executors["sub"]
    pids = set(executor.worker_pids())
    assert len(pids) == 2 and os.getpid() not in pids
    seen = [where().result(timeout=60) for _ in range(20)]
    assert {pid for pid, _ in seen} <= pids
    assert {rank for _, rank in seen} <= {"0", "1"}


def test_bash_app_runs_in_a_worker(dfk, tmp_path):
    out = tmp_path / "rank.out"
    assert rank_to(stdout=str(out)).result(timeout=60) == 0
    assert out.read_text() in ("rank=0\n", "rank=1\n")


def test_a_dead_worker_fails_only_its_task_and_is_replaced(dfk):
    with pytest.raises(WorkerLost, match="exited with code 7"):
        die().result(timeout=60)
    assert [where().result(timeout=60)[1] in ("0", "1") for _ in range(4)] == [True] * 4


def test_cancel_withdraws_a_queued_task(tmp_path):
    executor = SubprocessExecutor(label="one", workers=1)
    with parsl.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), strategy="none")):
        blocker = sleep_then(0.5)
        queued = sleep_then(0)
        assert queued.cancel()
        assert blocker.result(timeout=60) == 0.5
        assert queued.cancelled()


@python_app
def sleep_then(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_bad_worker_count_is_a_configuration_error():
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="workers=0"):
        SubprocessExecutor(workers=0)


SCRIPT = textwrap.dedent("""
    import os
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.executors import SubprocessExecutor   # resolved through the 'parsl' entry point

    @python_app
    def square(x):                                     # defined in __main__: travels by value
        return x * x

    @python_app
    def total(inputs=()):
        return sum(inputs), os.getpid()

    with parsl.load(Config(executors=[SubprocessExecutor(workers=2)], run_dir={run_dir!r})):
        value, pid = total(inputs=[square(i) for i in range(10)]).result()
        print(value, pid != os.getpid())
""")


def test_a_script_selects_the_executor_by_its_class(tmp_path):
    script = tmp_path / "workflow.py"
    script.write_text(SCRIPT.format(run_dir=str(tmp_path / "runinfo")))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["285", "True"]


def test_python_m_parsl_plugins_lists_it():
    out = subprocess.run(
        [sys.executable, "-m", "parsl", "plugins", "--json"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    row = rows["example-subprocess"]
    assert row["distribution"] == "parsl-example-subprocess-executor"
    assert row["provides"]["executors"] == ["SubprocessExecutor"]


def test_shutdown_without_blocking_kills_a_running_task(tmp_path):
    import time

    executor = SubprocessExecutor(label="quick", workers=1)
    executor.run_dir = str(tmp_path)
    executor.start()
    pid = executor.worker_pids()[0]
    running = executor.submit(time.sleep, {}, 60)
    queued = executor.submit(time.sleep, {}, 0)
    time.sleep(0.5)
    started = time.monotonic()
    executor.shutdown(block=False)
    assert isinstance(running.exception(timeout=10), WorkerLost)
    assert queued.exception(timeout=10) is not None  # never run after a non-blocking shutdown
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the worker is gone (reaped by the executor)
            os.kill(pid, 0)
            time.sleep(0.1)
