"""A bare TaskRecord and a workflow row for tests that feed the monitoring writer directly,
without a kernel."""

from __future__ import annotations

import time
from typing import Any

from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["bare_task", "workflow_row"]


def bare_task(
    tid: int, time_invoked: float, *, executor: str = "threads", retries_left: int = 0
) -> TaskRecord:
    """Task ``tid`` of a no-op app, as the kernel would hand it to the monitoring hooks."""
    return TaskRecord(
        id=tid,
        func=print,
        func_name="f",
        args=(),
        kwargs={},
        executor=executor,
        retries_left=retries_left,
        memoize=False,
        ignore_for_cache=[],
        join=False,
        time_invoked=time_invoked,
        dfk=None,  # type: ignore[arg-type]
        resource_specification={},
    )


def workflow_row(run_id: str, rundir: str, *, name: str = "w") -> dict[str, Any]:
    """The workflow row the hub would send for ``run_id``, begun now."""
    return {
        "run_id": run_id,
        "workflow_name": name,
        "workflow_version": "1",
        "time_began": time.time(),
        "time_completed": None,
        "host": "h",
        "user": "u",
        "rundir": rundir,
        "tasks_failed_count": 0,
        "tasks_completed_count": 0,
    }
