"""The executor conformance suite: what every Parsl executor must do, as pytest tests.

It includes :class:`~parsl.testing.lifecycle.ExecutorLifecycleSuite`: the executor driven
with no DataFlowKernel, in the kernel's order, as well as under one.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors.base import ParslExecutor
from parsl.testing.lifecycle import ExecutorLifecycleSuite

__all__ = ["ExecutorConformanceSuite"]


class ConformanceError(Exception):
    """Raised inside a task to check that exceptions travel back intact."""


@python_app
def _double(x: int) -> int:
    return 2 * x


@python_app
def _raise(message: str) -> None:
    raise ConformanceError(message)


@python_app
def _write(text: str, outputs: Any = ()) -> str:
    with open(outputs[0], "w") as f:
        f.write(text)
    return text


@python_app
def _read(inputs: Any = ()) -> str:
    with open(inputs[0]) as f:
        return f.read()


@bash_app
def _echo(word: str, stdout: Any = None) -> str:
    return f"echo {word}"


@bash_app
def _exit(code: int) -> str:
    return f"exit {code}"


class ExecutorConformanceSuite(ExecutorLifecycleSuite):
    """Conformance tests (lifecycle ones included); subclasses implement :meth:`make_executor`."""

    @pytest.fixture
    def conformance_dfk(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        """A DataFlowKernel running only the executor under test (fresh for every test)."""
        executor = self.make_executor()
        assert isinstance(executor, ParslExecutor), "make_executor() must return a ParslExecutor"
        run_dir = tmp_path_factory.mktemp("conformance") / "runinfo"
        dfk = parsl.load(Config(executors=[executor], run_dir=str(run_dir), strategy="none"))
        try:
            yield dfk
        finally:
            dfk.cleanup()

    def test_results_come_back(self, conformance_dfk: Any) -> None:
        futures = [_double(i) for i in range(20)]
        assert [f.result(timeout=self.timeout) for f in futures] == [2 * i for i in range(20)]

    def test_dependencies_flow_through(self, conformance_dfk: Any) -> None:
        assert _double(_double(_double(1))).result(timeout=self.timeout) == 8

    def test_exception_keeps_type_message_and_traceback(self, conformance_dfk: Any) -> None:
        fut = _raise("conformance failure")
        with pytest.raises(ConformanceError, match="conformance failure") as info:
            fut.result(timeout=self.timeout)
        text = "".join(traceback.format_exception(info.value))
        assert "_raise" in text, "the traceback must show the app's own frame"

    def test_failure_does_not_touch_other_tasks(self, conformance_dfk: Any) -> None:
        bad = _raise("one bad task")
        good = [_double(i) for i in range(5)]
        assert [f.result(timeout=self.timeout) for f in good] == [0, 2, 4, 6, 8]
        assert isinstance(bad.exception(timeout=self.timeout), ConformanceError)

    def test_bash_apps(self, conformance_dfk: Any, tmp_path: Any) -> None:
        out = tmp_path / "echo.out"
        assert _echo("conformance", stdout=str(out)).result(timeout=self.timeout) == 0
        assert out.read_text() == "conformance\n"
        from parsl.app.errors import BashExitFailure

        with pytest.raises(BashExitFailure) as info:
            _exit(3).result(timeout=self.timeout)
        assert info.value.exitcode == 3

    def test_files_pass_between_tasks(self, conformance_dfk: Any, tmp_path: Any) -> None:
        target = File(os.path.join(str(tmp_path), "data.txt"))
        written = _write("payload", outputs=[target])
        assert _read(inputs=[written.outputs[0]]).result(timeout=self.timeout) == "payload"

    def test_unknown_resource_specification_is_rejected(self, conformance_dfk: Any) -> None:
        fut = None
        try:
            fut = _double(1, parsl_resource_specification={"no_such_resource_key": 1})
        except Exception as e:  # rejected at submit: fine
            assert "no_such_resource_key" in str(e) or "resource" in str(e).lower()
            return
        exc = fut.exception(timeout=self.timeout)
        assert exc is not None, "an unknown resource specification key must not be silently ignored"
        assert "no_such_resource_key" in str(exc) or "resource" in str(exc).lower()

    def test_shutdown_is_prompt_and_final(self, tmp_path: Any) -> None:
        import time

        executor = self.make_executor()
        dfk = parsl.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), strategy="none"))
        try:
            assert _double(2).result(timeout=self.timeout) == 4
        finally:
            started = time.monotonic()
            dfk.cleanup()
        assert time.monotonic() - started < 30
        from parsl.errors import NoDataFlowKernelError

        with pytest.raises(NoDataFlowKernelError, match=r"^Cannot submit to a DFK that has been cleaned up$"):
            dfk.submit(lambda: None, ())
