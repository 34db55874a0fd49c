"""Concrete serializers under their Parsl names and identifiers: ``PickleSerializer`` (``01``),
``DillSerializer`` (``02``) and ``DillCallableSerializer`` (``C2``)."""

from __future__ import annotations

import functools
from typing import Any

from parsl.serialize.base import SerializerBase
from parsl.serialize.pickle import PickleSerializer

__all__ = ["DillCallableSerializer", "DillSerializer", "PickleSerializer"]


def _dill() -> Any:
    try:
        import dill
    except ImportError as e:
        from parsl.errors import OptionalModuleMissing

        raise OptionalModuleMissing(["dill"], "DillSerializer needs dill: pip install dill") from e
    return dill


class DillSerializer(SerializerBase):
    """dill, which also handles lambdas, closures and interactively defined functions.

    Not registered by default (dill is optional); register it from a plugin's
    ``parsl_register_serializers`` hook to use it as a fallback after pickle.
    """

    PLUGIN_NAME = "dill"
    identifier = b"02"
    priority = -10

    def serialize(self, data: Any) -> bytes:
        return _dill().dumps(data)

    def deserialize(self, body: bytes) -> Any:
        return _dill().loads(body)


@functools.lru_cache(maxsize=128)
def _dill_dumps_cached(data: Any) -> bytes:
    return _dill().dumps(data)


@functools.lru_cache(maxsize=128)
def _dill_loads_cached(body: bytes) -> Any:
    return _dill().loads(body)


class DillCallableSerializer(SerializerBase):
    """dill for functions, caching both directions on the assumption that functions don't change.

    Not registered by default; ``parsl.serialize.deserialize`` knows its identifier, so payloads
    made by Parsl's default code serializer can be read. ``serialize.cache_info()`` and
    ``serialize.cache_clear()`` expose the cache. Objects must be hashable.
    """

    PLUGIN_NAME = "dill-callable"
    identifier = b"C2"
    priority = -20

    def serialize(self, data: Any) -> bytes:
        return _dill_dumps_cached(data)

    def deserialize(self, body: bytes) -> Any:
        return _dill_loads_cached(body)

    serialize.cache_info = _dill_dumps_cached.cache_info  # type: ignore[attr-defined]
    serialize.cache_clear = _dill_dumps_cached.cache_clear  # type: ignore[attr-defined]
    deserialize.cache_info = _dill_loads_cached.cache_info  # type: ignore[attr-defined]
    deserialize.cache_clear = _dill_loads_cached.cache_clear  # type: ignore[attr-defined]
