"""Concrete serializers under their Parsl names: ``PickleSerializer`` and ``DillSerializer``."""
from __future__ import annotations

from typing import Any

from parsl.serialize.base import SerializerBase
from parsl.serialize.pickle import PickleSerializer

__all__ = ["PickleSerializer", "DillSerializer"]


def _dill() -> Any:
    try:
        import dill
    except ImportError as e:
        from parsl.errors import OptionalModuleMissing
        raise OptionalModuleMissing(["dill"], "DillSerializer needs dill: pip install dill") from e
    return dill


class DillSerializer(SerializerBase):
    """dill, which also handles lambdas, closures and interactively defined functions.

    Not registered by default (dill is optional); register it from a plugin's
    ``parsl_register_serializers`` hook to use it as a fallback after pickle.
    """

    PLUGIN_NAME = "dill"
    identifier = b"02"
    priority = -10

    def serialize(self, data: Any) -> bytes:
        return _dill().dumps(data)

    def deserialize(self, body: bytes) -> Any:
        return _dill().loads(body)
