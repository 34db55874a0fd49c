"""The serializer interface (``parsl.serialize.base``)."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

__all__ = ["SerializerBase"]


class SerializerBase(metaclass=ABCMeta):
    """Turn objects into bytes and back, tagged with a unique two-byte ``identifier``.

    Registered through the ``parsl_register_serializers`` hook; higher ``priority`` is tried
    first. A minimal plugin::

        import json
        from parsl import hookimpl
        from parsl.serialize.base import SerializerBase

        class JSONSerializer(SerializerBase):
            PLUGIN_NAME = "json"
            identifier = b"js"
            priority = -10

            def serialize(self, data):
                return json.dumps(data).encode()

            def deserialize(self, body):
                return json.loads(body)

        @hookimpl
        def parsl_register_serializers():
            return [JSONSerializer]
    """

    PLUGIN_NAME: ClassVar[str] = ""
    identifier: ClassVar[bytes] = b""
    priority: ClassVar[int] = 0

    @abstractmethod
    def serialize(self, data: Any) -> bytes:
        """Return ``data`` as bytes (without the identifier header)."""

    @abstractmethod
    def deserialize(self, body: bytes) -> Any:
        """Rebuild the object ``serialize`` turned into ``body``."""
