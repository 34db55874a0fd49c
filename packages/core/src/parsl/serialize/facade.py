"""Parsl's serialization front door (``parsl.serialize.facade``): the tables of serializers
``serialize`` tries, ways to change them, and the length-prefixed buffer format.

``methods_for_code`` (tried for callables) and ``methods_for_data`` (everything else) map a
serializer's ``identifier`` to an instance. Both start as cloudpickle (when installed) then
pickle; change them with ``register_method_for_code`` / ``register_method_for_data`` as in
Parsl. A payload is ``identifier + b"\\n" + body``; ``deserialize``
of a payload whose identifier no table knows imports the serializer the header names
(``b"package.module ClassName"``, the default identifier of a :class:`SerializerBase`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Sequence
from typing import Any

from parsl.serialize.base import SerializerBase
from parsl.serialize.errors import DeserializationError, DeserializerPluginError, SerializationError

__all__ = [
    "additional_methods_for_deserialization",
    "deserialize",
    "methods_for_code",
    "methods_for_data",
    "pack_apply_message",
    "pack_buffers",
    "pack_res_spec_apply_message",
    "register_method_for_code",
    "register_method_for_data",
    "serialize",
    "unpack_and_deserialize",
    "unpack_apply_message",
    "unpack_buffers",
    "unpack_res_spec_apply_message",
]

logger = logging.getLogger(__name__)

_lock = threading.Lock()


def _default_chain() -> list[SerializerBase]:
    """cloudpickle first where it is installed (lambdas and ``__main__`` functions), then pickle."""
    from parsl.serialize.concretes import CloudpickleSerializer, PickleSerializer

    chain: list[SerializerBase] = []
    if importlib.util.find_spec("cloudpickle") is not None:
        chain.append(CloudpickleSerializer())
    chain.append(PickleSerializer())
    return chain


#: every default serializer, whatever the tables say (deserialization falls back to these)
_installed: dict[bytes, SerializerBase] = {s.identifier: s for s in _default_chain()}
#: serializers tried, in order, for callables
methods_for_code: dict[bytes, SerializerBase] = dict(_installed)
#: serializers tried, in order, for everything that is not callable
methods_for_data: dict[bytes, SerializerBase] = dict(_installed)
#: serializers used only to deserialize (never to serialize), e.g. ones loaded from a header
additional_methods_for_deserialization: dict[bytes, SerializerBase] = {}


def _identifier_of(s: Any) -> bytes:
    ident = getattr(s, "identifier", None)
    if not isinstance(ident, bytes) or not ident or b"\n" in ident:
        raise ValueError(
            f"serializer {s!r} has identifier {ident!r}: it must be non-empty bytes "
            f"without a newline; set the class attribute identifier = b'..'"
        )
    return ident


def register_method_for_code(s: SerializerBase) -> None:
    """Add (or replace, under the same identifier) a serializer tried for callables."""
    methods_for_code[_identifier_of(s)] = s


def register_method_for_data(s: SerializerBase) -> None:
    """Add (or replace, under the same identifier) a serializer tried for non-callables."""
    methods_for_data[_identifier_of(s)] = s


# -- single objects ---------------------------------------------------------------------------
def serialize(obj: Any, buffer_threshold: int = int(1e6)) -> bytes:
    """Serialize ``obj`` with the first serializer in its table that can.

    Callables use ``methods_for_code``, other objects ``methods_for_data``. A payload longer
    than ``buffer_threshold`` bytes is logged as a warning, as Parsl does.
    """
    table = methods_for_code if callable(obj) else methods_for_data
    last: Exception | None = None
    for s in list(table.values()):
        try:
            payload = s.identifier + b"\n" + s.serialize(obj)
        except Exception as e:  # try the next serializer
            last = e
            continue
        if len(payload) > buffer_threshold:
            logger.warning(
                "Serialized object exceeds buffer threshold of %d bytes, this could cause overflows",
                buffer_threshold,
            )
        return payload
    if last is None:
        which = "methods_for_code" if table is methods_for_code else "methods_for_data"
        raise SerializationError(
            f"{type(obj).__name__} (no serializer in {which}; add one with register_method_for_*)"
        )
    raise SerializationError(type(obj).__name__) from last


def deserialize(payload: bytes) -> Any:
    """Inverse of :func:`serialize`; loads the serializer a payload's header names if need be."""
    header, sep, body = bytes(payload).partition(b"\n")
    if not sep:
        raise DeserializationError(f"payload has no identifier line (starts {bytes(payload)[:20]!r})")
    return _deserializer_for(header).deserialize(body)


def _deserializer_for(header: bytes) -> Any:
    for table in (methods_for_code, methods_for_data, additional_methods_for_deserialization, _installed):
        s = table.get(header)
        if s is not None:
            return s
    return _load_deserializer(header)


def _load_deserializer(header: bytes) -> Any:
    """Find Parsl's builtin identifiers or import ``b"module Class"``; remember the result."""
    from parsl.serialize import concretes

    well_known = {
        c.identifier: c
        for c in (
            concretes.PickleSerializer,
            concretes.DillSerializer,
            concretes.DillCallableSerializer,
            concretes.CloudpickleSerializer,
        )
    }
    logger.info("Loading the deserializer named by payload header %r", header)
    try:
        if header in well_known:
            s = well_known[header]()
        else:
            module_name, _, class_name = header.decode("utf-8").partition(" ")
            cls = getattr(importlib.import_module(module_name), class_name)
            s = cls()
        if not callable(getattr(s, "deserialize", None)):
            raise TypeError(f"{s!r} has no deserialize method")
    except Exception as e:
        raise DeserializerPluginError(header) from e
    with _lock:
        return additional_methods_for_deserialization.setdefault(header, s)


# -- buffers ----------------------------------------------------------------------------------
def pack_buffers(buffers: Sequence[bytes]) -> bytes:
    """Join byte strings, each preceded by its decimal length and ``b"\\n"``."""
    parts: list[bytes] = []
    for buf in buffers:
        parts.append(b"%d\n" % len(buf))
        parts.append(buf)
    return b"".join(parts)


def unpack_buffers(packed_buffer: bytes) -> list[bytes]:
    """Split :func:`pack_buffers` output back into its byte strings."""
    view = bytes(packed_buffer)
    out: list[bytes] = []
    pos = 0
    while pos < len(view):
        newline = view.find(b"\n", pos)
        try:
            if newline < 0:
                raise ValueError("no length line")
            length = int(view[pos:newline])
        except ValueError as e:
            raise DeserializationError(
                f"malformed packed buffer at byte {pos}: expected b'<length>\\n'"
            ) from e
        start = newline + 1
        if length < 0 or start + length > len(view):
            raise DeserializationError(
                f"malformed packed buffer at byte {pos}: length {length} "
                f"runs past the end ({len(view)} bytes)"
            )
        out.append(view[start : start + length])
        pos = start + length
    return out


def unpack_and_deserialize(packed_buffer: bytes) -> list[Any]:
    """Deserialize the three buffers of :func:`pack_apply_message`: ``[func, args, kwargs]``."""
    items = [deserialize(b) for b in unpack_buffers(packed_buffer)]
    if len(items) != 3:
        raise DeserializationError(f"expected 3 packed buffers (func, args, kwargs), got {len(items)}")
    return items


# -- function calls ---------------------------------------------------------------------------
def pack_apply_message(func: Any, args: Any, kwargs: Any, buffer_threshold: int = int(128e6)) -> bytes:
    """Serialize ``func``, ``args`` and ``kwargs`` separately and pack them into one payload."""
    return pack_buffers(
        [
            serialize(func, buffer_threshold=buffer_threshold),
            serialize(args, buffer_threshold=buffer_threshold),
            serialize(kwargs, buffer_threshold=buffer_threshold),
        ]
    )


def unpack_apply_message(packed_buffer: bytes, user_ns: Any = None, copy: Any = False) -> list[Any]:
    """Return ``[func, args, kwargs]`` from :func:`pack_apply_message`'s payload."""
    return [deserialize(b) for b in unpack_buffers(packed_buffer)]


def pack_res_spec_apply_message(
    func: Any,
    args: Any,
    kwargs: Any,
    resource_specification: dict[str, Any],
    buffer_threshold: int = int(128e6),
) -> bytes:
    """Like :func:`pack_apply_message` with a resource specification as a fourth buffer."""
    return pack_buffers(
        [
            serialize(x, buffer_threshold=buffer_threshold)
            for x in (func, args, kwargs, resource_specification)
        ]
    )


def unpack_res_spec_apply_message(packed_buffer: bytes, user_ns: Any = None, copy: Any = False) -> list[Any]:
    """Return ``[func, args, kwargs, resource_specification]``."""
    return [deserialize(b) for b in unpack_buffers(packed_buffer)]
