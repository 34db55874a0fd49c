"""Hook implementations registering this package's providers and launchers with parslcore.

Each class is imported on its own: a provider whose optional dependency is missing (or a
module that is not there yet) is left out and logged, the others still register.
"""

from __future__ import annotations

import logging

from parsl import hookimpl

logger = logging.getLogger(__name__)


def _public(suffix: str) -> tuple[str, ...]:
    """This package's public names of one kind (``Provider``, ``Launcher``), from its ``__all__``."""
    import parsl_providers

    return tuple(name for name in parsl_providers.__all__ if name.endswith(suffix))


def _load(names: tuple[str, ...]) -> list[type]:
    import parsl_providers

    found = []
    for name in names:
        try:
            found.append(getattr(parsl_providers, name))
        except (ImportError, AttributeError) as e:
            logger.debug("parsl-providers: %s not available: %s", name, e)
    return found


@hookimpl
def parsl_register_providers() -> list[type]:
    return _load(_public("Provider"))


@hookimpl
def parsl_register_launchers() -> list[type]:
    return _load(_public("Launcher"))
