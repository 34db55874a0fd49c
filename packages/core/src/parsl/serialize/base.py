"""The serializer interface (``parsl.serialize.base``)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

__all__ = ["SerializerBase"]


class _DefaultIdentifier:
    """``b"module ClassName"`` of the class it is read on, unless a subclass sets its own."""

    def __get__(self, obj: object, owner: type) -> bytes:
        return f"{owner.__module__} {owner.__name__}".encode()


class SerializerBase(metaclass=ABCMeta):
    """Turn objects into bytes and back, tagged with a unique ``identifier``.

    Builtin serializers use short identifiers (``b"01"``); a class that sets none is identified
    as ``b"module ClassName"``, which lets ``parsl.serialize.deserialize`` import it in a
    process where it was never registered.

    ``parsl.serialize.serialize`` tries the serializers of ``methods_for_code`` (callables) or
    ``methods_for_data`` (everything else) in order; add one as Parsl users do::

        import json
        from parsl.serialize.base import SerializerBase
        from parsl.serialize.facade import register_method_for_data

        class JSONSerializer(SerializerBase):
            identifier = b"js"

            def serialize(self, data):
                return json.dumps(data).encode()

            def deserialize(self, body):
                return json.loads(body)

        register_method_for_data(JSONSerializer())
    """

    PLUGIN_NAME: ClassVar[str] = ""
    identifier: ClassVar[bytes] = _DefaultIdentifier()  # type: ignore[assignment]

    @abstractmethod
    def serialize(self, data: Any) -> bytes:
        """Return ``data`` as bytes (without the identifier header)."""

    @abstractmethod
    def deserialize(self, body: bytes) -> Any:
        """Rebuild the object ``serialize`` turned into ``body``."""
