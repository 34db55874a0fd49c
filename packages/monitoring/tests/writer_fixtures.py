"""A bare TaskRecord for tests that feed the monitoring writer directly, without a kernel."""

from __future__ import annotations

from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["bare_task"]


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
