"""Exceptions raised by executors (``parsl.executors.errors``).

The classes, their bases, constructor arguments, attributes and messages are Parsl's:
``ExecutorError`` is the base of ``BadStateException``, ``UnsupportedFeatureError``,
``InvalidResourceSpecification`` and ``ScalingFailed``; ``BadMessage`` is a plain
``ParslError``. Constructors do not call ``Exception.__init__`` again, so ``args`` is exactly
what the caller passed, as with Parsl's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl import errors as _errors
from parsl.errors import ParslError

# defined with the serializers; importable from here too, as in 0.9-era scripts
from parsl.serialize.errors import DeserializationError, SerializationError

if TYPE_CHECKING:
    from parsl.executors.base import ParslExecutor

__all__ = [
    "BadMessage",
    "BadStateException",
    "DeserializationError",
    "ExecutorError",
    "InvalidResourceSpecification",
    "ScalingFailed",
    "SerializationError",
    "UnsupportedFeatureError",
]


def _label(executor: object) -> str:
    return str(getattr(executor, "label", executor))


class ExecutorError(ParslError):
    """Base class for executor errors: ``executor`` is the executor, ``reason`` says what went wrong."""

    def __init__(self, executor: ParslExecutor, reason: str) -> None:
        self.executor = executor
        self.reason = reason

    def __str__(self) -> str:
        return f"Executor {_label(self.executor)} failed due to: {self.reason}"


class BadStateException(ExecutorError):
    """What the tasks of an executor in a bad state (e.g. its blocks keep failing) fail with.

    ``exception`` is the error that broke the executor, or a text saying what did; ``reason``
    is its text.
    """

    def __init__(self, executor: ParslExecutor, exception: BaseException | str) -> None:
        super().__init__(executor, str(exception))


class UnsupportedFeatureError(ExecutorError, _errors.UnsupportedFeatureError):
    """A feature was asked of an executor that does not provide it.

    Also a ``parsl.errors.UnsupportedFeatureError`` (parslcore's older home of this error),
    so either ``except`` catches it.
    """

    def __init__(self, feature: str, current_executor: str, target_executor: str | None):
        self.feature = feature
        self.current_executor = current_executor
        self.target_executor = target_executor

    def __str__(self) -> str:
        text = f"The {self.feature} feature is unsupported in {self.current_executor}."
        if self.target_executor:
            # Parsl's message carries the indentation of a continued source line; kept as is
            text += " " * 21 + f"Please checkout {self.target_executor} for this feature"
        return text


class InvalidResourceSpecification(ExecutorError):
    """``parsl_resource_specification`` holds keys (or values) the executor cannot use.

    As in Parsl, ``executor`` and ``reason`` are not set: ``invalid_keys`` names the keys,
    ``message`` says what is wrong and how to fix it.
    """

    def __init__(self, invalid_keys: set[str], message: str = ""):
        self.invalid_keys = invalid_keys
        self.message = message

    def __str__(self) -> str:
        return f"Invalid Resource Specification Supplied: {self.invalid_keys}. {self.message}"


class ScalingFailed(ExecutorError):
    """The executor's provider could not add or remove blocks."""

    def __str__(self) -> str:
        return f"Executor {_label(self.executor)} failed to scale due to: {self.reason}"


class BadMessage(ParslError):
    """A malformed or unsupported message arrived from a remote component."""

    def __init__(self, reason: str):
        self.reason = reason

    def __str__(self) -> str:
        return f"Received an unsupported message. Reason:{self.reason}"
