"""The executor interface every Parsl executor implements (``parsl.executors.base``)."""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ClassVar

__all__ = ["INTERNAL_EXECUTOR_LABEL", "ParslExecutor"]

logger = logging.getLogger(__name__)

#: label of the kernel's own in-process executor (lifted ``fut[key]``, joins, staging waits);
#: reserved: ``Config`` refuses a user executor with this label
INTERNAL_EXECUTOR_LABEL = "_parsl_internal"


class ParslExecutor(metaclass=ABCMeta):
    """Run Python callables somewhere and return futures for their results.

    An executor is registered with Parsl by a plugin's ``parsl_register_executors`` hook and
    instantiated by the user in ``Config(executors=[...])``. The DataFlowKernel sets ``run_dir``,
    ``run_id`` and ``label``-keyed bookkeeping, calls ``start()`` once, ``submit()`` for each
    ready task and ``shutdown()`` at cleanup. A minimal complete plugin::

        from concurrent.futures import Future
        from parsl import hookimpl
        from parsl.executors.base import ParslExecutor

        class InlineExecutor(ParslExecutor):
            PLUGIN_NAME = "inline"

            def __init__(self, label="inline"):
                super().__init__()
                self.label = label

            def start(self):
                pass

            def submit(self, func, resource_specification, *args, **kwargs):
                fut = Future()
                try:
                    fut.set_result(func(*args, **kwargs))
                except Exception as e:
                    fut.set_exception(e)
                return fut

            def shutdown(self):
                pass

        @hookimpl
        def parsl_register_executors():
            return [InlineExecutor]

    and, in the plugin distribution's ``pyproject.toml``::

        [project.entry-points.parsl]
        inline = "my_package.plugin"
    """

    #: name under which plugin listings show this executor class
    PLUGIN_NAME: ClassVar[str] = ""

    label: str = "undefined"
    radio_mode: str = "udp"

    def __init__(self, *, label: str | None = None) -> None:
        if label is not None:
            self.label = label
        self.run_dir: str = "."
        self.run_id: str | None = None
        self.working_dir: str | None = None
        self.storage_access: list[Any] | None = getattr(self, "storage_access", None)
        self.hub_address: str | None = None
        self.hub_zmq_port: int | None = None
        self.monitoring_messages: Any = None
        self.submit_monitoring_radio: Any = None

    def __enter__(self) -> ParslExecutor:
        return self

    def __exit__(self, *exc: object) -> bool:
        self.shutdown()
        return False

    @abstractmethod
    def start(self) -> None:
        """Start the executor; called once by the DataFlowKernel before any submit."""

    @abstractmethod
    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Future:
        """Run ``func(*args, **kwargs)`` and return a Future for its result."""

    @abstractmethod
    def shutdown(self) -> None:
        """Release every resource the executor holds; no submit follows."""

    def send_monitoring_messages(self, messages: list[dict[str, Any]]) -> None:
        """Report telemetry (block status, worker pools, messages from tasks) to monitoring.

        A no-op unless the DataFlowKernel connected this executor to a plugin implementing
        ``parsl_executor_messages`` (it sets ``monitoring_messages``). Never raises.
        """
        sink = self.monitoring_messages
        if sink is None or not messages:
            return
        try:
            if callable(sink):
                sink(messages)
            else:  # a queue, as Parsl's DataFlowKernel used to hand executors
                for m in messages:
                    sink.put(m)
        except Exception:
            logger.exception(
                "Executor %s could not deliver %d monitoring messages", self.label, len(messages)
            )

    def monitor_resources(self) -> bool:
        """Whether monitoring should collect resource usage for this executor's tasks."""
        return True

    @property
    def run_dir(self) -> str:
        return self._run_dir

    @run_dir.setter
    def run_dir(self, value: str) -> None:
        self._run_dir = value

    @property
    def bad_state_is_set(self) -> bool:
        """True once the executor has given up (e.g. its blocks failed repeatedly)."""
        return False

    @property
    def executor_exception(self) -> BaseException | None:
        return None
