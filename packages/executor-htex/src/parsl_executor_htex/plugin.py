"""Hook implementations registering the HighThroughputExecutor and the cloudpickle serializer."""
from __future__ import annotations

from parsl import hookimpl


@hookimpl
def parsl_register_executors() -> list[type]:
    from parsl_executor_htex.executor import HighThroughputExecutor
    return [HighThroughputExecutor]


@hookimpl
def parsl_register_serializers() -> list[type]:
    from parsl_executor_htex.serialize import CloudpickleSerializer
    return [CloudpickleSerializer]
