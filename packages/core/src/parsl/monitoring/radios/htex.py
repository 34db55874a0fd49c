"""``HTEXRadio``: Parsl's radio over the HighThroughputExecutor's result channel.

parslcore's HighThroughputExecutor carries monitoring messages over its own connection
whether or not this radio is named, so the sender here has nothing to do: it drops what it is
given (at DEBUG), and the receiver has nothing to stop.
"""

from __future__ import annotations

import logging
from typing import Any

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig
from parsl.utils import RepresentationMixin

__all__ = ["HTEXRadio", "HTEXRadioReceiver", "HTEXRadioSender"]

logger = logging.getLogger(__name__)


class HTEXRadioSender(MonitoringRadioSender):
    """Drops messages: HTEX workers report monitoring through parsl-monitoring's own channel."""

    def send(self, message: object) -> None:
        logger.debug("HTEXRadioSender drops a message: parslcore's HTEX sends monitoring messages itself")


class HTEXRadioReceiver(MonitoringRadioReceiver):
    def shutdown(self) -> None:
        pass


class HTEXRadio(RadioConfig, RepresentationMixin):
    """The HighThroughputExecutor's default radio in Parsl; recorded, with nothing to start here."""

    def create_receiver(self, *, run_dir: str, resource_msgs: Any) -> MonitoringRadioReceiver:
        return HTEXRadioReceiver()

    def create_sender(self) -> MonitoringRadioSender:
        return HTEXRadioSender()
