"""Exceptions raised by executors (``parsl.executors.errors``)."""
from __future__ import annotations

from parsl.errors import ParslError, UnsupportedFeatureError  # noqa: F401
# defined with the serializers; importable from here too, as in 0.9-era scripts
from parsl.serialize.errors import DeserializationError, SerializationError  # noqa: F401

__all__ = [
    "ExecutorError",
    "BadStateException",
    "BadMessage",
    "DeserializationError",
    "SerializationError",
    "ScalingFailed",
    "InvalidResourceSpecification",
    "UnsupportedFeatureError",
]


class ExecutorError(ParslError):
    """Base class for executor errors: ``executor`` is the executor, ``reason`` says what went wrong."""

    def __init__(self, executor: object, reason: str):
        super().__init__(executor, reason)
        self.executor = executor
        self.reason = reason

    def __str__(self) -> str:
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} failed due to: {self.reason}"


class BadStateException(ExecutorError):
    """The executor is in a state where it cannot run tasks (e.g. its blocks keep failing)."""

    def __init__(self, executor: object, reason: str, exceptions: dict | None = None):
        super().__init__(executor, reason)
        self.exceptions = exceptions or {}


class BadMessage(ParslError):
    """A malformed message arrived from a remote component."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Received a bad message: {self.reason}"


class ScalingFailed(ExecutorError):
    """The executor's provider could not add or remove blocks."""

    def __str__(self) -> str:
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} failed to scale due to: {self.reason}"


class InvalidResourceSpecification(ParslError):
    """``parsl_resource_specification`` holds keys the executor does not understand."""

    def __init__(self, invalid_keys: set[str], message: str = ""):
        super().__init__(invalid_keys, message)
        self.invalid_keys = invalid_keys
        self.message = message

    def __str__(self) -> str:
        return f"Invalid resource specification keys {sorted(self.invalid_keys)}. {self.message}".rstrip()
