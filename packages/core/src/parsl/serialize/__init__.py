"""Serialization of functions, arguments and results (``parsl.serialize``).

Each payload is ``identifier + b"\\n" + body``; serializers come from the
``parsl_register_serializers`` hook and are tried by priority until one succeeds.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

from parsl.serialize.base import SerializerBase

__all__ = ["serialize", "deserialize", "pack_apply_message", "unpack_apply_message",
           "pack_res_spec_apply_message", "unpack_res_spec_apply_message", "SerializerBase"]

_lock = threading.Lock()
_chain: list[SerializerBase] | None = None
_by_id: dict[bytes, SerializerBase] = {}


def _serializers() -> list[SerializerBase]:
    global _chain
    if _chain is None:
        with _lock:
            if _chain is None:
                from parsl.plugins import default_plugin_manager
                chain = [cls() for cls in default_plugin_manager().serializers()]
                for s in chain:
                    _by_id.setdefault(s.identifier, s)
                _chain = chain
    return _chain


def serialize(obj: Any, buffer_threshold: int = int(1e6)) -> bytes:
    """Serialize ``obj`` with the first registered serializer that can."""
    last: Exception | None = None
    for s in _serializers():
        try:
            return s.identifier + b"\n" + s.serialize(obj)
        except Exception as e:  # try the next serializer
            last = e
    from parsl.serialize.errors import SerializationError
    raise SerializationError(type(obj).__name__) from last


def deserialize(payload: bytes) -> Any:
    """Inverse of :func:`serialize`."""
    _serializers()
    header, _, body = payload.partition(b"\n")
    s = _by_id.get(header)
    if s is None:
        from parsl.serialize.errors import DeserializationError
        raise DeserializationError(f"no serializer installed for identifier {header!r}")
    return s.deserialize(body)


def pack_apply_message(func: Any, args: Sequence[Any], kwargs: dict[str, Any],
                       buffer_threshold: int = int(128e6)) -> bytes:
    """Serialize a call ``func(*args, **kwargs)`` into one payload."""
    return serialize((func, tuple(args), dict(kwargs)))


def unpack_apply_message(packed: bytes, user_ns: Any = None, copy: Any = False) -> list[Any]:
    """Return ``[func, args, kwargs]`` from :func:`pack_apply_message`'s payload."""
    return list(deserialize(packed))


def pack_res_spec_apply_message(func: Any, args: Sequence[Any], kwargs: dict[str, Any],
                                resource_specification: dict[str, Any],
                                buffer_threshold: int = int(128e6)) -> bytes:
    """Like :func:`pack_apply_message` with a resource specification alongside."""
    return serialize((func, tuple(args), dict(kwargs), resource_specification))


def unpack_res_spec_apply_message(packed: bytes, user_ns: Any = None, copy: Any = False) -> list[Any]:
    return list(deserialize(packed))
