"""Exceptions raised while serializing or deserializing (``parsl.serialize.errors``)."""
from __future__ import annotations

from parsl.errors import ParslError

__all__ = ["SerializationError", "DeserializationError", "SerializerError"]


class SerializerError(ParslError):
    """A serializer could not be found or used."""


class SerializationError(ParslError):
    """A function or its arguments could not be serialized to send to a worker."""

    def __init__(self, fname: str):
        super().__init__(fname)
        self.fname = fname

    def __str__(self) -> str:
        return f"Failed to serialize objects for an invocation of function {self.fname}"


class DeserializationError(ParslError):
    """A result or exception from a worker could not be deserialized."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Failed to deserialize objects. Reason: {self.reason}"
