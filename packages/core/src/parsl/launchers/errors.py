"""Exceptions raised about launchers."""
from __future__ import annotations

from typing import Any

from parsl.providers.errors import ExecutionProviderException

__all__ = ["BadLauncher"]


class BadLauncher(ExecutionProviderException, TypeError):
    """Something that is not a launcher (not callable) was given as a provider's ``launcher``."""

    def __init__(self, launcher: Any, reason: str | None = None):
        super().__init__(launcher, reason)
        self.launcher = launcher
        self.reason = reason

    def __str__(self) -> str:
        if self.reason:
            return f"Bad Launcher provided: {self.launcher!r}: {self.reason}"
        return (f"Bad Launcher provided: {self.launcher!r}; expected a parsl.launchers.base.Launcher "
                "instance (for example SingleNodeLauncher()) or another callable")
