"""Parsl executors that drive an outside runtime parslcore ships no executor for.

``WorkQueueExecutor``, ``TaskVineExecutor``, ``FluxExecutor`` and ``RadicalPilotExecutor``
import from their Parsl paths and are real classes (subclasses of ParslExecutor, or of
BlockProviderExecutor where Parsl's are), so configurations and code that name them load;
building one raises :class:`ExecutorNotShippedError` saying what it needs and what to use
instead, at the point where Parsl fails when that runtime is missing (construction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from parsl.errors import OptionalModuleMissing

__all__ = ["ExecutorNotShippedError", "NotShippedExecutor", "Runtime"]


class ExecutorNotShippedError(OptionalModuleMissing):
    """A Parsl executor parslcore does not ship was built; the message says what to do."""

    def __init__(self, executor: str, module_names: list[str], reason: str) -> None:
        super().__init__(module_names, reason)
        self.executor = executor

    def __str__(self) -> str:
        return self.reason


class FluxNotShippedError(ExecutorNotShippedError, OSError):
    """Also an OSError (``EnvironmentError``), which is what Parsl raises when Flux is missing."""


@dataclass(frozen=True)
class Runtime:
    """The outside system an executor drives and how to install it."""

    name: str  # e.g. "Work Queue"
    modules: tuple[str, ...]  # what Parsl's executor imports or runs
    install: str  # how to install that runtime


class NotShippedExecutor:
    """Mixin put first in a not-shipped executor's bases: every entry point raises the error.

    ``__init__`` raises, so no instance exists; the other methods only make the class concrete
    (not abstract) so that construction reaches ``__init__`` and its message.
    """

    runtime: ClassVar[Runtime]
    error_class: ClassVar[type[ExecutorNotShippedError]] = ExecutorNotShippedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._not_shipped()

    @classmethod
    def _not_shipped(cls) -> NoReturn:
        rt = cls.runtime
        modules = " and ".join(rt.modules)
        raise cls.error_class(
            cls.__name__,
            list(rt.modules),
            (
                f"{cls.__name__} needs {modules} ({rt.install}) and an executor that drives {rt.name}; "
                f"parslcore does not ship a {rt.name} executor. Run this configuration with upstream Parsl "
                f"(pip install parsl) and {modules}, or use HighThroughputExecutor "
                f"(pip install 'parslcore[htex]'), which runs the same apps on pilot-job workers."
            ),
        )

    def start(self) -> None:
        self._not_shipped()

    def submit(self, func: Any, resource_specification: Any, *args: Any, **kwargs: Any) -> Any:
        self._not_shipped()

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        pass

    def _get_launch_command(self, block_id: str) -> str:
        self._not_shipped()

    @property
    def outstanding(self) -> int:
        return 0

    @property
    def workers_per_node(self) -> int:
        return 1
