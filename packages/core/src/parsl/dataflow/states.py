"""Task states (``parsl.dataflow.states``)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["FINAL_FAILURE_STATES", "FINAL_STATES", "States"]


class States(IntEnum):
    """The states a task passes through in the DataFlowKernel."""

    unsched = -1
    pending = 0
    running = 2
    exec_done = 3
    failed = 4
    dep_fail = 5
    launched = 7
    fail_retryable = 8
    memo_done = 9
    joining = 10
    running_ended = 11

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


FINAL_STATES = (States.exec_done, States.memo_done, States.failed, States.dep_fail)
FINAL_FAILURE_STATES = (States.failed, States.dep_fail)
