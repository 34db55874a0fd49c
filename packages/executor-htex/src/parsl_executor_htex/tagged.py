"""HTEX telemetry as Parsl's tagged monitoring messages, for a ``monitoring_messages`` queue.

Two consumers take an executor's telemetry. Under our DataFlowKernel ``monitoring_messages`` is
a callable taking batches of plain dicts (see the ``parsl_executor_reported`` hook). Software
that drives the executor itself follows Parsl: it sets ``monitoring_messages`` to a queue before
``start()`` and reads ``(MessageType, body)`` pairs from it. :func:`tag_messages` turns a batch of
the first kind into the second: ``node`` -> ``NODE_INFO`` (with ``block_id`` and the ``tasks``
the pool holds), ``block`` -> one ``BLOCK_INFO`` whose body lists the blocks, ``task_running`` /
``task_running_ended`` -> ``WORKER_TASK_INFO`` (a packed task run, see
``parsl.monitoring.packed``, gives both), ``resource`` -> ``RESOURCE_INFO``. Timestamps
become ``datetime`` objects, as in Parsl's messages; every body carries ``run_id``.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from parsl.monitoring.packed import expand
from parsl.monitoring.types import MessageType, TaggedMonitoringMessage

logger = logging.getLogger(__name__)

__all__ = ["tag_messages"]

_TIME_KEYS = ("timestamp", "last_heartbeat")


def _body(msg: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    body = {k: v for k, v in msg.items() if k != "type"}
    for key in _TIME_KEYS:
        value = body.get(key)
        if isinstance(value, (int, float)):
            body[key] = datetime.datetime.fromtimestamp(value)
    body.setdefault("run_id", run_id)
    return body


def tag_messages(
    messages: list[dict[str, Any]], run_id: str | None, label: str
) -> list[TaggedMonitoringMessage]:
    """Parsl's tagged form of a batch of telemetry dicts (see the module docstring); messages of
    a type Parsl has no kind for are left out."""
    out: list[TaggedMonitoringMessage] = []
    blocks: list[dict[str, Any]] = []
    for msg in expand(messages, run_id):
        kind = msg.get("type")
        if kind == "node":
            out.append((MessageType.NODE_INFO, _body(msg, run_id)))
        elif kind == "block":
            body = _body(msg, run_id)
            body.setdefault("executor_label", label)
            blocks.append(body)
        elif kind in ("task_running", "task_running_ended"):
            body = _body(msg, run_id)
            body["first_msg"] = kind == "task_running"
            body["last_msg"] = kind == "task_running_ended"
            out.append((MessageType.WORKER_TASK_INFO, body))
        elif kind == "resource":
            out.append((MessageType.RESOURCE_INFO, _body(msg, run_id)))
        elif logger.isEnabledFor(logging.DEBUG):
            logger.debug("No Parsl message type for telemetry of type %r: not queued", kind)
    if blocks:
        out.append((MessageType.BLOCK_INFO, blocks))  # type: ignore[arg-type]  # Parsl's shape: a list
    return out
