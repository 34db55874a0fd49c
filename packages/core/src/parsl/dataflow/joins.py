"""Join apps: a join app's function returns futures, and its task completes with their results."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from parsl.dataflow.errors import JoinError, failures_of
from parsl.dataflow.states import States
from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["Joins"]


class Joins:
    """DataFlowKernel methods that wait for a join app's inner futures (a mixin)."""

    def _start_join(self, task: TaskRecord, inner: Any) -> None:
        if isinstance(inner, Future):
            inner_futs: list[Future] = [inner]
        elif isinstance(inner, (list, tuple)) and all(isinstance(f, Future) for f in inner):
            inner_futs = list(inner)
        elif isinstance(inner, dict) and all(isinstance(f, Future) for f in inner.values()):
            inner_futs = list(inner.values())
        else:
            self._finish_failure(
                task,
                TypeError(
                    f"join_app {task.func_name} must return a Future, a list of Futures or a dict of "
                    f"Futures, not {type(inner).__name__}"
                ),
                States.failed,
            )
            return
        task.joins = inner
        self._set_state(task, States.joining)
        remaining = [len(inner_futs)]
        lock = threading.Lock()

        def one_done(_f: Future) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                self._join_done(task, inner, inner_futs)

        if not inner_futs:
            self._join_done(task, inner, inner_futs)
        for f in inner_futs:
            f.add_done_callback(one_done)

    def _join_done(self, task: TaskRecord, inner: Any, inner_futs: list[Future]) -> None:
        failed = failures_of(inner_futs, self.render_future_description)
        if failed:
            self._finish_failure(task, JoinError(failed, task.id), States.failed)
            return
        if isinstance(inner, Future):
            res = inner.result()
        elif isinstance(inner, dict):
            res = {k: f.result() for k, f in inner.items()}
        else:
            res = [f.result() for f in inner]
        self._finish_success(task, res)
