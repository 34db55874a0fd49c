"""``FluxExecutor``: importable, but building one says parslcore does not ship it."""

from __future__ import annotations

from parsl.executors.base import ParslExecutor
from parsl.executors.not_shipped import FluxNotShippedError, NotShippedExecutor, Runtime

__all__ = ["FluxExecutor"]


class FluxExecutor(NotShippedExecutor, ParslExecutor):
    """Parsl's executor for the Flux resource manager; construction raises an error that is
    both an ExecutorNotShippedError and, as Parsl's is when Flux is missing, an OSError."""

    runtime = Runtime(
        "Flux", ("flux-core",), "the flux command and its Python bindings: https://flux-framework.org"
    )
    error_class = FluxNotShippedError
    label = "FluxExecutor"
