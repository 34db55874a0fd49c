"""Serialization of functions, arguments and results (``parsl.serialize``).

Each payload is ``identifier + b"\\n" + body``; the serializers of a table are tried in order
until one succeeds. The tables and the buffer format live in :mod:`parsl.serialize.facade`.
"""

from __future__ import annotations

from parsl.serialize.base import SerializerBase
from parsl.serialize.facade import (
    deserialize,
    pack_apply_message,
    pack_res_spec_apply_message,
    serialize,
    unpack_apply_message,
    unpack_res_spec_apply_message,
)

__all__ = [
    "SerializerBase",
    "deserialize",
    "pack_apply_message",
    "pack_res_spec_apply_message",
    "serialize",
    "unpack_apply_message",
    "unpack_res_spec_apply_message",
]
