"""DataFlowKernel.cleanup() unloads the kernel whatever fails on the way, so parsl.load works again."""

from __future__ import annotations

import logging
import threading

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.dflow import DataFlowKernelLoader
from parsl.dataflow.memoization import BasicMemoizer
from parsl.dataflow.states import States
from parsl.errors import NoDataFlowKernelError
from parsl.executors.threads import ThreadPoolExecutor


@python_app
def double(x):
    return 2 * x


class _ShutdownRaises(ThreadPoolExecutor):
    """A real thread pool whose shutdown stops its threads and then reports an error."""

    def shutdown(self, block: bool = True) -> None:
        super().shutdown(block)
        raise RuntimeError(f"executor {self.label} failed to shut down")


class _ShutdownWaits(ThreadPoolExecutor):
    """A real thread pool whose shutdown waits for the test to let it finish."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.entered = threading.Event()
        self.release = threading.Event()

    def shutdown(self, block: bool = True) -> None:
        self.entered.set()
        assert self.release.wait(30), "the test never released shutdown()"
        super().shutdown(block)


class _CloseRaisesMemoizer(BasicMemoizer):
    """The real memoizer, failing at close (as a final checkpoint on a full disk would)."""

    def close(self) -> None:
        super().close()
        raise OSError("final checkpoint could not be written")


def _config(run_dir, *executors, **kw):
    return Config(executors=list(executors), run_dir=run_dir, strategy="none", **kw)


def _assert_unloaded_and_loadable(run_dir):
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    assert DataFlowKernelLoader._dfk is None
    with parsl.load(_config(run_dir, ThreadPoolExecutor(label="threads"))) as again:
        assert parsl.dfk() is again
        assert double(4).result() == 8


def test_executor_shutdown_raising_still_unloads(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = _ShutdownRaises(label="broken")
    healthy = ThreadPoolExecutor(label="healthy")
    dfk = parsl.load(_config(run_dir, broken, healthy))
    assert double(1).result() == 2
    with pytest.raises(RuntimeError, match="executor broken failed to shut down"):
        dfk.cleanup()
    # the executor after the failing one was still shut down
    with pytest.raises(RuntimeError):
        healthy.submit(double.func, {}, 1)
    _assert_unloaded_and_loadable(run_dir)


def test_cleanup_failing_midway_still_shuts_down_and_unloads(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    threads = ThreadPoolExecutor(label="threads")
    handlers_before = list(logging.getLogger("parsl").handlers)
    dfk = parsl.load(_config(run_dir, threads, memoizer=_CloseRaisesMemoizer()))
    assert double(2).result() == 4
    with pytest.raises(OSError, match="final checkpoint"):
        dfk.cleanup()
    # the steps after the memoizer ran: executors stopped, parsl.log handler removed
    with pytest.raises(RuntimeError):
        threads.submit(double.func, {}, 1)
    assert logging.getLogger("parsl").handlers == handlers_before
    dfk.cleanup()  # a second call is still harmless
    _assert_unloaded_and_loadable(run_dir)


def test_with_block_whose_cleanup_fails_leaves_loader_clear(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with (
        pytest.raises(RuntimeError, match="failed to shut down"),
        parsl.load(_config(run_dir, _ShutdownRaises(label="broken"))),
    ):
        assert double(3).result() == 6
    _assert_unloaded_and_loadable(run_dir)


def test_failed_test_body_then_cleanup_leaves_loader_clear(run_dir, tmp_path, monkeypatch):
    """What a test harness does after a failing test: cleanup in its teardown, then load again."""
    monkeypatch.chdir(tmp_path)
    dfk = parsl.load(_config(run_dir, _ShutdownRaises(label="broken")))
    with pytest.raises(ZeroDivisionError):
        double(1).result() / 0
    with pytest.raises(RuntimeError):
        dfk.cleanup()
    _assert_unloaded_and_loadable(run_dir)


def test_load_while_previous_cleanup_is_still_running(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    slow = _ShutdownWaits(label="slow")
    old = parsl.load(_config(run_dir, slow))
    loaded = []

    def load_during_cleanup():
        try:
            assert slow.entered.wait(30)
            # the old kernel is mid-cleanup: it no longer blocks a new load
            loaded.append(parsl.load(_config(run_dir, ThreadPoolExecutor(label="threads"))))
        except BaseException as e:
            loaded.append(e)
        finally:
            slow.release.set()

    loader = threading.Thread(target=load_during_cleanup)
    loader.start()
    old.cleanup()  # from the main thread, so its signal handlers are restored here
    loader.join(30)
    [new] = loaded
    assert not isinstance(new, BaseException), new
    # the old kernel's cleanup finished without unloading its successor
    assert parsl.dfk() is new
    assert double(5).result() == 10
    new.cleanup()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_load_twice_without_cleanup_still_refused(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = parsl.load(_config(run_dir, ThreadPoolExecutor(label="threads")))
    try:
        with pytest.raises(parsl.errors.ConfigurationError, match="already been loaded"):
            parsl.load(_config(run_dir, ThreadPoolExecutor(label="threads")))
        assert parsl.dfk() is first
    finally:
        first.cleanup()


@python_app
def fails():
    raise ValueError("deliberate")


def test_cleanup_logs_a_summary_line_per_state(run_dir, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO, logger="parsl")
    with parsl.load(_config(run_dir, ThreadPoolExecutor(label="threads"))):
        assert double(1).result() == 2
        bad = fails()
        assert isinstance(bad.exception(), ValueError)
        assert isinstance(double(bad).exception(), parsl.errors.ParslError)
    lines = [r.getMessage() for r in caplog.records if r.name == "parsl.dataflow.dflow"]
    start = lines.index("Summary of tasks in DFK:")
    summary = lines[start : lines.index("End of summary", start) + 1]
    assert "Tasks in state States.exec_done: 1" in summary
    assert "Tasks in state States.failed: 1" in summary
    assert "Tasks in state States.dep_fail: 1" in summary
    assert "Tasks in state States.pending: 0" in summary
    assert len(summary) == len(States) + 2
