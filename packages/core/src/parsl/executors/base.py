"""The executor interface every Parsl executor implements (``parsl.executors.base``)."""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from typing_extensions import Self  # annotations only: parslcore does not depend on it at run time

    from parsl.data_provider.staging import Staging
    from parsl.monitoring.radios.base import MonitoringRadioSender

__all__ = [
    "INTERNAL_EXECUTOR_LABEL",
    "TASK_TELEMETRY_ATTRIBUTE",
    "MessageQueue",
    "ParslExecutor",
    "TelemetrySink",
]

logger = logging.getLogger(__name__)

#: the attribute by which a task wrapper asks the executor for a channel back to the workflow
#: (workers that must not import parsl spell it out; tests check they agree)
TASK_TELEMETRY_ATTRIBUTE = "parsl_monitoring_send"

#: a sink of telemetry: called with a batch of message dicts, oldest first
TelemetrySink = Callable[[list[dict[str, Any]]], None]


class MessageQueue(Protocol):
    """A queue receiving one message per ``put`` (Parsl's kernel gave executors one)."""

    def put(self, item: Any) -> None: ...


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

    **Telemetry.** An executor reports to the workflow's plugins (the monitoring hub among
    them) through two optional channels:

    - In the workflow process: ``self.send_monitoring_messages([{"type": ..., ...}, ...])``
      (block status, worker pools; see the ``parsl_executor_reported`` hook for the message
      types). The DataFlowKernel sets ``self.monitoring_messages`` before ``start()`` when a
      plugin implements that hook; otherwise the call does nothing, so guard costly message
      building with ``if self.monitoring_messages is not None``.
    - From inside tasks: a function given to ``submit`` may be a wrapper made by a
      ``parsl_task_prepared`` plugin that asks for a channel by having the attribute named
      :data:`TASK_TELEMETRY_ATTRIBUTE` set to None. An executor whose tasks run in other
      processes gives it one where the task runs, and hands what arrives back in the workflow
      process to ``send_monitoring_messages``::

          # in the worker, once per deserialized function
          ParslExecutor.connect_task_telemetry(func, send_to_workflow)

      where ``send_to_workflow(messages)`` takes a list of messages: dicts, and ``bytes``
      items (a packed task run, see ``parsl.monitoring.packed``) that the executor carries as
      they are and ``send_monitoring_messages`` expands for a queue. An executor that cannot
      carry them leaves the attribute alone: the wrapper drops its messages and the task runs
      as usual. Executors that run tasks in the workflow process need do nothing (the plugin
      connects its wrapper there itself).
    """

    #: this class's key in the executor registry (``parsl.plugins.plugin_name_of``); when a
    #: class does not set its own, its ``__name__`` is used
    PLUGIN_NAME: ClassVar[str] = ""

    label: str = "undefined"
    radio_mode: str = "udp"

    def __init__(self, *, label: str | None = None) -> None:
        if label is not None:
            self.label = label
        self.run_dir: str = "."
        self.run_id: str | None = None
        self.working_dir: str | None = None
        self.storage_access: list[Staging] | None = getattr(self, "storage_access", None)
        self.hub_address: str | None = None
        self.hub_zmq_port: int | None = None
        #: where ``send_monitoring_messages`` delivers: set by the DataFlowKernel (or by software
        #: driving the executor, which may set a queue as Parsl's kernel did); None: nowhere
        self.monitoring_messages: TelemetrySink | MessageQueue | None = None
        self.submit_monitoring_radio: MonitoringRadioSender | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @abstractmethod
    def start(self) -> None:
        """Start the executor; called once by the DataFlowKernel before any submit."""

    @abstractmethod
    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Future[Any]:
        """Run ``func(*args, **kwargs)`` and return a Future for its result."""

    @abstractmethod
    def shutdown(self) -> None:
        """Release every resource the executor holds; no submit follows."""

    def send_monitoring_messages(self, messages: list[dict[str, Any]]) -> None:
        """Report telemetry (block status, worker pools, messages from tasks) to the workflow.

        Delivered to ``monitoring_messages``: under a DataFlowKernel, the plugins implementing
        ``parsl_executor_reported``; a no-op when it is None. Never raises.
        """
        sink = self.monitoring_messages
        if sink is None or not messages:
            return
        try:
            if callable(sink):
                sink(messages)
            else:  # a queue, as Parsl's DataFlowKernel used to hand executors: plain dicts only
                from parsl.monitoring.packed import expand

                for m in expand(messages, self.run_id):
                    sink.put(m)
        except Exception:
            logger.exception(
                "Executor %s could not deliver %d monitoring messages", self.label, len(messages)
            )

    @staticmethod
    def connect_task_telemetry(func: object, send: TelemetrySink) -> bool:
        """Give ``func`` the channel ``send`` if it asks for one; return whether it did.

        Executors call this where a task runs (see "Telemetry" above). A function asks by
        having the attribute :data:`TASK_TELEMETRY_ATTRIBUTE`.
        """
        if not hasattr(func, TASK_TELEMETRY_ATTRIBUTE):
            return False
        setattr(func, TASK_TELEMETRY_ATTRIBUTE, send)
        return True

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
