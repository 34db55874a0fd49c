"""``execute_task(buffer)``: run a task packed by ``parsl.serialize.pack_apply_message``.

Workers of executors built on Parsl's serialization (and engines that hand HTEX pre-packed
payloads) call it to unpack the function and its arguments and return the function's result;
an exception raised by the function propagates to the caller unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = ["execute_task"]


def execute_task(bufs: bytes) -> Any:
    """Unpack ``bufs`` into ``(function, args, kwargs)``, call it and return its result."""
    from parsl.serialize import unpack_apply_message

    func, args, kwargs = unpack_apply_message(bufs)
    return func(*args, **kwargs)
