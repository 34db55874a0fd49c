"""Concrete serializers under their Parsl names and identifiers: ``PickleSerializer`` (``01``),
``DillSerializer`` (``02``), ``DillCallableSerializer`` (``C2``) and ``CloudpickleSerializer``
(``cp``, ours: functions from ``__main__`` and lambdas travel by value)."""

from __future__ import annotations

import functools
import importlib
import pickle
from types import ModuleType
from typing import Any

from parsl.serialize.base import SerializerBase
from parsl.serialize.pickle import PickleSerializer

__all__ = ["CloudpickleSerializer", "DillCallableSerializer", "DillSerializer", "PickleSerializer"]


def _optional(module: str, needed_by: str) -> ModuleType:
    """Import an optional serialization library, or say which one to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        from parsl.errors import OptionalModuleMissing

        raise OptionalModuleMissing([module], f"{needed_by} needs {module}: pip install {module}") from e


def _dill() -> ModuleType:
    return _optional("dill", "DillSerializer")


class DillSerializer(SerializerBase):
    """dill, which also handles lambdas, closures and interactively defined functions.

    Not in the default tables (dill is optional); add it with
    ``parsl.serialize.facade.register_method_for_data(DillSerializer())``.
    """

    PLUGIN_NAME = "dill"
    identifier = b"02"

    def serialize(self, data: Any) -> bytes:
        payload: bytes = _dill().dumps(data)
        return payload

    def deserialize(self, body: bytes) -> Any:
        return _dill().loads(body)


@functools.lru_cache(maxsize=128)
def _dill_dumps_cached(data: Any) -> bytes:
    payload: bytes = _dill().dumps(data)
    return payload


@functools.lru_cache(maxsize=128)
def _dill_loads_cached(body: bytes) -> Any:
    return _dill().loads(body)


class DillCallableSerializer(SerializerBase):
    """dill for functions, caching both directions on the assumption that functions don't change.

    Not in the default tables; ``parsl.serialize.deserialize`` knows its identifier, so payloads
    made by Parsl's default code serializer can be read. ``serialize.cache_info()`` and
    ``serialize.cache_clear()`` expose the cache. Objects must be hashable.
    """

    PLUGIN_NAME = "dill-callable"
    identifier = b"C2"

    def serialize(self, data: Any) -> bytes:
        return _dill_dumps_cached(data)

    def deserialize(self, body: bytes) -> Any:
        return _dill_loads_cached(body)

    serialize.cache_info = _dill_dumps_cached.cache_info  # type: ignore[attr-defined]
    serialize.cache_clear = _dill_dumps_cached.cache_clear  # type: ignore[attr-defined]
    deserialize.cache_info = _dill_loads_cached.cache_info  # type: ignore[attr-defined]
    deserialize.cache_clear = _dill_loads_cached.cache_clear  # type: ignore[attr-defined]


class CloudpickleSerializer(SerializerBase):
    """cloudpickle: like pickle, but functions and classes from ``__main__`` and lambdas travel
    by value. First in both default tables when cloudpickle is installed (the HighThroughputExecutor
    package depends on it); its payloads load with plain :func:`pickle.loads`."""

    PLUGIN_NAME = "cloudpickle"
    identifier = b"cp"

    def serialize(self, data: Any) -> bytes:
        cloudpickle = _optional("cloudpickle", "CloudpickleSerializer")
        payload: bytes = cloudpickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        return payload

    def deserialize(self, body: bytes) -> Any:
        return pickle.loads(body)
