"""``MultiprocessingQueueRadio``: messages go straight onto the workflow's queue (same machine)."""

from __future__ import annotations

from typing import Any

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig
from parsl.utils import RepresentationMixin

__all__ = [
    "MultiprocessingQueueRadio",
    "MultiprocessingQueueRadioReceiver",
    "MultiprocessingQueueRadioSender",
]


class MultiprocessingQueueRadioSender(MonitoringRadioSender, RepresentationMixin):
    """Puts each message on ``queue`` (a ``multiprocessing`` or ``queue`` Queue)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def send(self, message: object) -> None:
        self.queue.put(message)


class MultiprocessingQueueRadioReceiver(MonitoringRadioReceiver):
    """Nothing runs on the receiving side: shutdown has nothing to stop."""

    def shutdown(self) -> None:
        pass


class MultiprocessingQueueRadio(RadioConfig, RepresentationMixin):
    """For tasks in the workflow's process or its children: senders share the message queue."""

    def create_receiver(self, *, run_dir: str, resource_msgs: Any) -> MonitoringRadioReceiver:
        self._queue = resource_msgs
        return MultiprocessingQueueRadioReceiver()

    def create_sender(self) -> MonitoringRadioSender:
        queue = getattr(self, "_queue", None)
        if queue is None:
            raise RuntimeError(
                "MultiprocessingQueueRadio.create_sender() needs create_receiver() called first"
            )
        return MultiprocessingQueueRadioSender(queue)
