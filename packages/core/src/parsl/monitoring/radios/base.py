"""The radio interfaces: ``RadioConfig`` makes a receiver (workflow side) and senders (task side)."""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["MessageSink", "MonitoringRadioReceiver", "MonitoringRadioSender", "RadioConfig", "record_radio"]

logger = logging.getLogger(__name__)


class MessageSink(Protocol):
    """Where a receiver puts each message: a ``queue.Queue`` or ``multiprocessing.Queue``."""

    def put(self, item: Any, /) -> None: ...


class MonitoringRadioSender(metaclass=ABCMeta):
    """Sends monitoring messages (any picklable object) towards a receiver."""

    @abstractmethod
    def send(self, message: object) -> None:
        """Send one message; never raises for a delivery problem (monitoring is best effort)."""


class MonitoringRadioReceiver(metaclass=ABCMeta):
    """Receives what senders send and puts it on the workflow's message queue."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop receiving and release what the receiver holds."""


class RadioConfig(metaclass=ABCMeta):
    """How monitoring messages travel from tasks to the workflow; one per executor.

    The workflow side calls ``create_receiver`` once (which may record on the config what
    senders need, such as a port); the config is then pickled to wherever tasks run and
    ``create_sender`` is called there. A config must stay picklable; receivers and senders need
    not be. A config serves one workflow run. A minimal radio::

        class ListRadio(RadioConfig):
            def create_receiver(self, *, run_dir, resource_msgs):
                self.queue = resource_msgs
                return NothingToStop()

            def create_sender(self):
                return QueueSender(self.queue)

    parslcore's executors record the radio they are given but do not start it: monitoring
    messages travel over each executor's own connection.
    """

    @abstractmethod
    def create_receiver(self, *, run_dir: str, resource_msgs: MessageSink) -> MonitoringRadioReceiver:
        """Start receiving into ``resource_msgs`` (a queue); remember what senders need."""

    @abstractmethod
    def create_sender(self) -> MonitoringRadioSender:
        """A sender for the receiver made by an earlier ``create_receiver``."""


def record_radio(
    owner: str, radio: object, default: Callable[[], RadioConfig] | None = None
) -> RadioConfig | None:
    """Check and return the ``remote_monitoring_radio=`` an executor was given.

    When none was given, ``default()`` is returned (the executor's default radio in Parsl:
    ``HTEXRadio`` for the HighThroughputExecutor, ``MultiprocessingQueueRadio`` for the
    ThreadPoolExecutor), or None without a default. parslcore needs no radio (telemetry rides
    the executor's connection), so the radio is only recorded; this says so at DEBUG. Anything
    but a RadioConfig or None is a configuration error.
    """
    if radio is None:
        return default() if default is not None else None
    if not isinstance(radio, RadioConfig):
        from parsl.errors import type_check_error

        raise type_check_error(
            f"{owner}(remote_monitoring_radio={radio!r}): use a RadioConfig such as "
            f"parsl.monitoring.radios.htex.HTEXRadio(), or leave it out"
        )
    logger.debug(
        "%s: remote_monitoring_radio=%r recorded and not started: parslcore carries monitoring "
        "messages over the executor's own connection",
        owner,
        radio,
    )
    return radio
