"""Exceptions raised while serializing or deserializing (``parsl.serialize.errors``).

Parsl's classes with Parsl's constructor arguments, attributes and messages, plus
``SerializerError`` (parslcore's: a serializer could not be found or used).
"""

from __future__ import annotations

from parsl.errors import ParslError

__all__ = ["DeserializationError", "DeserializerPluginError", "SerializationError", "SerializerError"]

#: where Parsl's documentation explains what to do about a SerializationError
TROUBLESHOOTING_URL = "https://parsl.readthedocs.io/en/latest/faq.html#addressing-serializationerror"


class SerializerError(ParslError):
    """A serializer could not be found or used."""


class SerializationError(ParslError):
    """A function or its arguments could not be serialized to send to a worker.

    ``fname`` names the function (with the cause, where parslcore knows it);
    ``troubleshooting`` is the documentation page on what to do about it.
    """

    def __init__(self, fname: str):
        self.fname = fname
        self.troubleshooting = TROUBLESHOOTING_URL

    def __str__(self) -> str:
        return (
            f"Failed to serialize objects for an invocation of function {self.fname}. "
            f"Refer {self.troubleshooting}"
        )


class DeserializationError(ParslError):
    """A result or exception from a worker could not be deserialized."""

    def __init__(self, reason: str):
        self.reason = reason

    def __str__(self) -> str:
        return f"Failed to deserialize objects. Reason: {self.reason}"


class DeserializerPluginError(ParslError):
    """The deserializer named by a payload's header (``b"module ClassName"``) could not be loaded."""

    def __init__(self, header: bytes):
        self.header = header

    def __str__(self) -> str:
        return f"Failed to load deserializer plugin for header {self.header!r}"
