"""Packed task runs: a monitored task's ``task_running`` and ``task_running_ended`` in one bytes.

A task that runs in a worker process tells the workflow when it started and ended, where it ran
(host and block). Sent as two dicts, that is two small message objects to pickle in the worker,
to unpickle in the workflow process (where thousands of them a second are work for its garbage
collector) and to pickle again for the monitoring writer. Packed, it is one ``bytes`` item in
the same message list: ``task id, try id, started, ended`` as ``<qqdd``, then the host name and,
after a NUL, the block id (no NUL: no block id). Bytes are no object the collector tracks.

Telemetry consumers see these items among the dicts of a batch (``parsl_executor_reported``)
and either read them with :func:`unpack_task_run` or turn the batch back into plain dicts with
:func:`expand` (executors do so before putting messages on a Parsl-style queue).
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["TASK_RUN", "expand", "is_packed", "pack_task_run", "unpack_task_run"]

#: the fixed part of a packed task run: task id, try id, started and ended (seconds since the epoch)
TASK_RUN = struct.Struct("<qqdd")
_PACK = TASK_RUN.pack
_UNPACK = TASK_RUN.unpack_from
_SIZE = TASK_RUN.size


def pack_task_run(
    task_id: int, try_id: int, started: float, ended: float, hostname: str, block_id: str | None
) -> bytes:
    """One task run, packed (see the module docstring)."""
    where = hostname.encode() if block_id is None else f"{hostname}\0{block_id}".encode()
    return _PACK(task_id, try_id, started, ended) + where


def is_packed(item: Any) -> bool:
    """Whether a telemetry item is a packed task run rather than a message dict."""
    return type(item) is bytes


def unpack_task_run(item: bytes) -> tuple[int, int, float, float, str, str | None]:
    """``(task id, try id, started, ended, hostname, block id)`` of a packed task run."""
    task_id, try_id, started, ended = _UNPACK(item)
    hostname, sep, block_id = item[_SIZE:].decode().partition("\0")
    return task_id, try_id, started, ended, hostname, (block_id if sep else None)


def expand(messages: list[Any], run_id: str | None = None) -> list[dict[str, Any]]:
    """``messages`` with each packed task run replaced by its two message dicts (``run_id``
    added to them); a batch without packed items is returned as it is."""
    if not any(type(m) is bytes for m in messages):
        return messages
    out: list[dict[str, Any]] = []
    for m in messages:
        if type(m) is not bytes:
            out.append(m)
            continue
        task_id, try_id, started, ended, hostname, block_id = unpack_task_run(m)
        ident = {"run_id": run_id, "task_id": task_id, "try_id": try_id}
        out.append(
            {
                "type": "task_running",
                **ident,
                "timestamp": started,
                "hostname": hostname,
                "block_id": block_id,
            }
        )
        out.append({"type": "task_running_ended", **ident, "timestamp": ended})
    return out
