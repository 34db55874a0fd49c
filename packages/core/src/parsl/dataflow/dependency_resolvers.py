"""How the DataFlowKernel finds futures in a task's arguments and replaces them by results.

``SHALLOW_DEPENDENCY_RESOLVER`` (the default) looks at positional args, keyword values and
the items of ``inputs=``. ``DEEP_DEPENDENCY_RESOLVER`` also walks lists, tuples, sets and
dicts (keys and values) to any depth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

__all__ = [
    "DEEP_DEPENDENCY_RESOLVER",
    "SHALLOW_DEPENDENCY_RESOLVER",
    "DependencyResolver",
    "deep_traverse_to_gather",
    "deep_traverse_to_unwrap",
]


@dataclass
class DependencyResolver:
    """A pair of functions: ``traverse_to_gather(obj) -> futures`` and ``traverse_to_unwrap(obj) -> obj``."""

    traverse_to_gather: Callable[[Any], Sequence[Future[Any]]]
    traverse_to_unwrap: Callable[[Any], Any]


def _shallow_gather(o: Any) -> list[Future[Any]]:
    return [o] if isinstance(o, Future) else []


def _shallow_unwrap(o: Any) -> Any:
    return o.result() if isinstance(o, Future) else o


@singledispatch
def deep_traverse_to_gather(o: Any) -> list[Future[Any]]:
    """Every future inside ``o``."""
    return [o] if isinstance(o, Future) else []


@deep_traverse_to_gather.register(tuple)
@deep_traverse_to_gather.register(list)
@deep_traverse_to_gather.register(set)
@deep_traverse_to_gather.register(frozenset)
def _(o: Any) -> list[Future[Any]]:
    out: list[Future[Any]] = []
    for x in o:
        out.extend(deep_traverse_to_gather(x))
    return out


@deep_traverse_to_gather.register(dict)
def _(o: dict[Any, Any]) -> list[Future[Any]]:
    out: list[Future[Any]] = []
    for k, v in o.items():
        out.extend(deep_traverse_to_gather(k))
        out.extend(deep_traverse_to_gather(v))
    return out


@singledispatch
def deep_traverse_to_unwrap(o: Any) -> Any:
    """``o`` with every future inside it replaced by its result."""
    return o.result() if isinstance(o, Future) else o


@deep_traverse_to_unwrap.register(list)
@deep_traverse_to_unwrap.register(tuple)
@deep_traverse_to_unwrap.register(set)
@deep_traverse_to_unwrap.register(frozenset)
def _(o: Any) -> Any:
    return type(o)(deep_traverse_to_unwrap(x) for x in o)


@deep_traverse_to_unwrap.register(dict)
def _(o: dict[Any, Any]) -> dict[Any, Any]:
    return {deep_traverse_to_unwrap(k): deep_traverse_to_unwrap(v) for k, v in o.items()}


SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(
    traverse_to_gather=_shallow_gather, traverse_to_unwrap=_shallow_unwrap
)
DEEP_DEPENDENCY_RESOLVER = DependencyResolver(
    traverse_to_gather=deep_traverse_to_gather, traverse_to_unwrap=deep_traverse_to_unwrap
)
