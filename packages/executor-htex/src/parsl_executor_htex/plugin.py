"""Hook implementations registering the HighThroughputExecutor and the cloudpickle serializer."""

from __future__ import annotations

from typing import Any

from parsl import hookimpl
from parsl.serialize.base import SerializerBase
from parsl_executor_htex.serialize import dumps, loads


class CloudpickleSerializer(SerializerBase):
    """cloudpickle, preferred over core's pickle so lambdas and ``__main__`` functions serialize."""

    PLUGIN_NAME = "cloudpickle"
    identifier = b"cp"
    priority = 10

    def serialize(self, data: Any) -> bytes:
        return dumps(data)

    def deserialize(self, body: bytes) -> Any:
        return loads(body)


@hookimpl
def parsl_register_executors() -> list[type]:
    from parsl_executor_htex.executor import HighThroughputExecutor
    from parsl_executor_htex.mpi_executor import MPIExecutor

    return [HighThroughputExecutor, MPIExecutor]


@hookimpl
def parsl_register_serializers() -> list[type]:
    return [CloudpickleSerializer]
