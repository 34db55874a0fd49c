"""Top-level Parsl exceptions (``parsl.errors``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

__all__ = [
    "ConfigurationError",
    "InternalConsistencyError",
    "NoDataFlowKernelError",
    "OptionalModuleMissing",
    "ParslError",
    "TypeCheckError",
    "UnsupportedFeatureError",
    "type_check_error",
]


class ParslError(Exception):
    """Base class for every exception Parsl raises."""


class ConfigurationError(ParslError):
    """The configuration is invalid: the message names the field and the fix."""


class NoDataFlowKernelError(ParslError):
    """An app was called, or ``parsl.dfk()`` used, before ``parsl.load()``."""


class OptionalModuleMissing(ParslError):
    """A feature needs a Python module that is not installed."""

    def __init__(self, module_names: str | Sequence[str], reason: str) -> None:
        super().__init__(module_names, reason)
        self.module_names = module_names
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"The functionality requested requires missing optional modules {self.module_names}, "
            f"because: {self.reason}"
        )


class InternalConsistencyError(ParslError):
    """Parsl found its own state inconsistent: this is a bug, please report it."""


class UnsupportedFeatureError(ParslError):
    """A feature was requested from a component that does not provide it."""

    def __init__(self, feature: str, current_executor: str, target_executor: str | None) -> None:
        super().__init__(feature, current_executor, target_executor)
        self.feature = feature
        self.current_executor = current_executor
        self.target_executor = target_executor

    def __str__(self) -> str:
        if self.target_executor:
            return (
                f"The {self.feature} feature is not supported in {self.current_executor}. "
                f"Use {self.target_executor} instead."
            )
        return f"The {self.feature} feature is not supported in {self.current_executor}."


if TYPE_CHECKING:
    from typeguard import TypeCheckError as _TypeguardTypeCheckError

    class TypeCheckError(ConfigurationError, _TypeguardTypeCheckError, TypeError):
        """A configuration value has the wrong type (or is not one of the allowed choices)."""


def _make_type_check_error() -> type[TypeCheckError]:
    # typeguard takes ~0.2 s to import, so the class is built on first use (an error path).
    try:
        from typeguard import TypeCheckError as _TypeguardTypeCheckError

        bases: tuple[type, ...] = (ConfigurationError, _TypeguardTypeCheckError, TypeError)
    except ImportError:  # pragma: no cover - typeguard is a dependency
        bases = (ConfigurationError, TypeError)

    def __str__(self: BaseException) -> str:
        return str(self.args[0]) if self.args else ""

    # built dynamically, so the checker learns its type from the TYPE_CHECKING class above
    cls = type(
        "TypeCheckError",
        bases,
        {
            "__doc__": "A configuration value has the wrong type (or is not one of the allowed choices).\n\n"
            "Also a ``typeguard.TypeCheckError`` and a ``TypeError``, so code written for\n"
            "Parsl's typeguard-checked signatures catches it; the message names the field and the fix.",
            "__module__": __name__,
            "__qualname__": "TypeCheckError",
            "__str__": __str__,
        },
    )
    return cast("type[TypeCheckError]", cls)


def __getattr__(name: str) -> type[TypeCheckError]:
    if name == "TypeCheckError":
        cls = _make_type_check_error()
        globals()["TypeCheckError"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def type_check_error(message: str) -> TypeCheckError:
    """Build a :class:`TypeCheckError` (a configuration value has the wrong type)."""
    cls: type[TypeCheckError] | None = globals().get("TypeCheckError")
    if cls is None:
        cls = __getattr__("TypeCheckError")
    return cls(message)
