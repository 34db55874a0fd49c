"""Old import path of :class:`~parsl.monitoring.types.MessageType` (Parsl's ``parsl.monitoring.message_type``)."""

from __future__ import annotations

from parsl.monitoring.types import MessageType

__all__ = ["MessageType"]
