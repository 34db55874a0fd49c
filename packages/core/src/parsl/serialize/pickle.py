"""The builtin pickle serializer."""

from __future__ import annotations

import pickle
from typing import Any

from parsl.serialize.base import SerializerBase

__all__ = ["PickleSerializer"]


class PickleSerializer(SerializerBase):
    """Standard-library pickle at the highest protocol."""

    PLUGIN_NAME = "pickle"
    identifier = b"01"

    def serialize(self, data: Any) -> bytes:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)

    def deserialize(self, body: bytes) -> Any:
        return pickle.loads(body)
