"""parsl.load / clear / dfk / wait_for_current_tasks, the context manager and the run directory."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.dflow import DataFlowKernel, DataFlowKernelLoader
from parsl.errors import ConfigurationError, NoDataFlowKernelError, ParslError
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor


@python_app
def double(x):
    return 2 * x


@python_app
def slow(x, delay=0.3):
    import time

    time.sleep(delay)
    return x


@python_app
def fails(msg):
    raise ValueError(msg)


@python_app
def wait_on(gate):
    return gate


def threads_config(run_dir, **kw):
    kw.setdefault("strategy", "none")
    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4)], run_dir=run_dir, **kw)


def test_dfk_before_load_raises():
    with pytest.raises(NoDataFlowKernelError, match="load"):
        parsl.dfk()
    assert issubclass(NoDataFlowKernelError, ParslError)


def test_app_call_before_load_raises():
    with pytest.raises(NoDataFlowKernelError):
        double(1)


def test_load_makes_dfk_current(load):
    dfk = load()
    assert isinstance(dfk, DataFlowKernel)
    assert parsl.dfk() is dfk
    assert DataFlowKernelLoader.dfk() is dfk
    assert double(21).result() == 42


def test_load_twice_raises_configuration_error_that_is_runtime_error(load, run_dir):
    first = load()
    with pytest.raises(ConfigurationError, match="already") as info:
        parsl.load(threads_config(run_dir))
    assert isinstance(info.value, RuntimeError)
    # the first kernel is still the current one and still works
    assert parsl.dfk() is first
    assert double(2).result() == 4


def test_cleanup_unloads_and_allows_a_new_load(load, run_dir):
    first = load()
    assert double(1).result() == 2
    first.cleanup()
    assert first.cleanup_called
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    second = load(threads_config(run_dir))
    assert second is not first
    assert parsl.dfk() is second
    assert double(5).result() == 10


def test_clear_forgets_dfk_without_cleaning_it(load):
    dfk = load()
    parsl.clear()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    assert not dfk.cleanup_called
    dfk.cleanup()


def test_cleanup_twice_is_harmless(load):
    dfk = load()
    dfk.cleanup()
    dfk.cleanup()
    assert dfk.cleanup_called


def test_submit_after_cleanup_fails(load):
    dfk = load()

    @python_app(data_flow_kernel=dfk)
    def bound(x):
        return x

    assert bound(3).result() == 3
    dfk.cleanup()
    with pytest.raises(NoDataFlowKernelError) as info:
        bound(1)
    assert str(info.value) == "Cannot submit to a DFK that has been cleaned up"  # Parsl's text


def test_wait_for_current_tasks_waits_for_everything(load):
    load()
    futs = [slow(i, delay=0.05 * (i % 3)) for i in range(12)]
    bad = fails("x")
    dep = double(bad)
    parsl.wait_for_current_tasks()
    assert all(f.done() for f in futs)
    assert bad.done() and dep.done()
    assert [f.result() for f in futs] == list(range(12))


def test_wait_for_current_tasks_covers_tasks_waiting_on_dependencies(load):
    load()
    gate: Future = Future()
    fut = wait_on(gate)
    threading.Timer(0.2, gate.set_result, args=("open",)).start()
    t0 = time.monotonic()
    parsl.wait_for_current_tasks()
    assert fut.done() and fut.result() == "open"
    assert time.monotonic() - t0 >= 0.15


def test_with_block_exit_mode_cleanup(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with parsl.load(threads_config(run_dir, exit_mode="cleanup")) as dfk:
        assert isinstance(dfk, DataFlowKernel)
        assert parsl.dfk() is dfk
        assert double(3).result() == 6
    assert dfk.cleanup_called
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_with_block_default_exit_mode_is_cleanup(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = threads_config(run_dir)
    assert cfg.exit_mode == "cleanup"
    with parsl.load(cfg) as dfk:
        pass
    assert dfk.cleanup_called


def test_with_block_exit_mode_skip_leaves_dfk_running(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        with parsl.load(threads_config(run_dir, exit_mode="skip")) as dfk:
            pass
        assert not dfk.cleanup_called
        assert parsl.dfk() is dfk
        assert double(4).result() == 8
    finally:
        dfk.cleanup()
    assert dfk.cleanup_called


def test_with_block_exit_mode_wait_waits_for_slow_task(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gate: Future = Future()
    with parsl.load(threads_config(run_dir, exit_mode="wait")) as dfk:
        fut = wait_on(gate)
        timer = threading.Timer(0.3, gate.set_result, args=("late",))
        timer.start()
        assert not fut.done()
    # leaving the block waited for the task (it only becomes ready after 0.3 s)
    assert fut.done()
    assert fut.result() == "late"
    assert dfk.cleanup_called
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_with_block_exit_mode_wait_does_not_wait_after_exception(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gate: Future = Future()  # never completed: waiting for the task would hang
    t0 = time.monotonic()
    with pytest.raises(KeyError, match="boom"), parsl.load(threads_config(run_dir, exit_mode="wait")) as dfk:
        fut = wait_on(gate)
        raise KeyError("boom")
    assert time.monotonic() - t0 < 5
    assert dfk.cleanup_called
    assert not fut.done()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_with_block_exception_propagates_in_cleanup_mode(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ZeroDivisionError), parsl.load(threads_config(run_dir)) as dfk:
        _ = 1 / 0
    assert dfk.cleanup_called


def test_run_dirs_are_numbered(run_dir, load):
    first = load(threads_config(run_dir))
    first.cleanup()
    second = load(threads_config(run_dir))
    second.cleanup()
    assert os.path.basename(first.run_dir) == "000"
    assert os.path.basename(second.run_dir) == "001"
    assert os.path.dirname(first.run_dir) == os.path.abspath(run_dir)
    assert sorted(os.listdir(run_dir)) == ["000", "001"]


def test_run_dir_default_is_runinfo_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with parsl.load(Config(executors=[ThreadPoolExecutor()], strategy="none")) as dfk:
        assert double(1).result() == 2
    assert dfk.run_dir == str(tmp_path / "runinfo" / "000")
    assert (tmp_path / "runinfo" / "000" / "parsl.log").exists()


def test_parsl_log_records_task_events_at_info(load, monkeypatch):
    monkeypatch.delenv("PARSL_LOG_LEVEL", raising=False)
    dfk = load()
    ok = double(7)
    assert ok.result() == 14
    bad = fails("deliberate failure")
    with pytest.raises(ValueError):
        bad.result()
    log_path = os.path.join(dfk.run_dir, "parsl.log")
    dfk.cleanup()
    assert os.path.exists(log_path)
    text = open(log_path).read()
    assert " INFO: " in text
    assert " DEBUG: " not in text  # the file logger defaults to INFO
    assert f"task {ok.tid} launched" in text
    assert f"task {ok.tid} exec_done" in text
    fail_lines = [line for line in text.splitlines() if f"Task {bad.tid} " in line]
    assert fail_lines, text
    assert any(
        "failed" in line and "ValueError" in line and "deliberate failure" in line for line in fail_lines
    )
    assert "DataFlowKernel cleanup" in text


def test_initialize_logging_false_writes_no_parsl_log(load, run_dir):
    dfk = load(threads_config(run_dir, initialize_logging=False))
    assert double(1).result() == 2
    dfk.cleanup()
    assert not os.path.exists(os.path.join(dfk.run_dir, "parsl.log"))


def test_log_handler_removed_after_cleanup(load):
    before = list(logging.getLogger("parsl").handlers)
    dfk = load()
    assert len(logging.getLogger("parsl").handlers) == len(before) + 1
    dfk.cleanup()
    assert logging.getLogger("parsl").handlers == before


def test_config_as_dict_raises_configuration_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="dict"):
        parsl.load({"executors": [ThreadPoolExecutor()]})
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_config_of_wrong_type_raises(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="Config"):
        parsl.load("local_threads")


def test_empty_executors_raises(tmp_path, monkeypatch, run_dir):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="executors"):
        parsl.load(Config(executors=[], run_dir=run_dir))
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_load_without_config_uses_threads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dfk = parsl.load()
    try:
        assert [label for label in dfk.executors if not label.startswith("_")] == ["threads"]
        assert double(8).result() == 16
    finally:
        dfk.cleanup()


class _BrokenExecutor(ParslExecutor):
    def __init__(self, label="broken"):
        super().__init__()
        self.label = label

    def start(self):
        raise RuntimeError("cannot start")

    def submit(self, func, resource_specification, *args, **kwargs):  # pragma: no cover
        raise AssertionError("never submitted")

    def shutdown(self):
        pass


def test_failed_load_leaves_nothing_loaded_and_allows_a_new_load(load, run_dir):
    handlers = list(logging.getLogger("parsl").handlers)
    threads_before = {t.name for t in threading.enumerate()}
    with pytest.raises(RuntimeError, match="cannot start"):
        parsl.load(Config(executors=[_BrokenExecutor()], run_dir=run_dir, strategy="none"))
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    assert logging.getLogger("parsl").handlers == handlers
    time.sleep(0.05)
    leaked = {t.name for t in threading.enumerate()} - threads_before
    assert not leaked, leaked
    dfk = load(threads_config(run_dir))
    assert double(1).result() == 2
    assert dfk.run_dir.endswith("001")


def test_dfk_attributes(load):
    dfk = load()
    futs = [double(i) for i in range(5)]
    [f.result() for f in futs]
    assert dfk.task_count == 5
    assert isinstance(dfk.run_id, str) and len(dfk.run_id) >= 8
    assert isinstance(dfk.config, Config)
    assert "threads" in dfk.executors
    assert dfk.tasks_completed_count == 5
    assert dfk.tasks_failed_count == 0


def test_two_dfks_side_by_side_via_data_flow_kernel(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = DataFlowKernel(threads_config(run_dir))
    b = DataFlowKernel(threads_config(run_dir))
    try:

        @python_app(data_flow_kernel=a)
        def on_a():
            return "a"

        @python_app(data_flow_kernel=b)
        def on_b():
            return "b"

        fa, fb = on_a(), on_b()
        assert (fa.result(), fb.result()) == ("a", "b")
        assert fa.task_record["dfk"] is a and fb.task_record["dfk"] is b
        assert a.task_count == 1 and b.task_count == 1
        # not loaded through parsl.load: no current kernel
        with pytest.raises(NoDataFlowKernelError):
            parsl.dfk()
    finally:
        a.cleanup()
        b.cleanup()


def test_same_config_object_can_be_loaded_again(tmp_path, monkeypatch, run_dir):
    monkeypatch.chdir(tmp_path)
    cfg = threads_config(run_dir)
    with parsl.load(cfg):
        assert double(1).result() == 2
    # notebooks reload the same Config (and so the same executor objects) after clearing
    with parsl.load(cfg):
        assert double(2).result() == 4
    first = parsl.load(cfg)
    parsl.clear()
    second = parsl.load(cfg)  # loaded without cleaning up the previous kernel first
    try:
        assert double(3).result() == 6
    finally:
        second.cleanup()
        first.cleanup()


def test_wait_for_current_tasks_while_tasks_finish(load):
    load()
    for _ in range(30):
        futs = [double(i) for i in range(100)]
        parsl.wait_for_current_tasks()
        assert all(f.done() for f in futs)
