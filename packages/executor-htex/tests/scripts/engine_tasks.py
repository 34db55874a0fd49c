"""Task executors for test_engine_style.py: what an engine ships in its own package and names in
``submit_payload``'s ``context["task_executor"]``. The worker pools of that test find this
module through PYTHONPATH (the provider's ``worker_init``)."""

from __future__ import annotations

import os


def run(buffer: bytes, tag: str, *, repeat: int = 1) -> dict:
    """Echo the payload with where it ran: the worker's block and pool."""
    return {
        "tag": tag,
        "body": bytes(buffer) * repeat,
        "block_id": os.environ["PARSL_WORKER_BLOCK_ID"],
        "pool": os.environ["PARSL_WORKER_POOL_ID"],
        "pid": os.getpid(),
    }


def fail(buffer: bytes) -> bytes:
    raise ValueError(f"refused {len(buffer)} bytes")
