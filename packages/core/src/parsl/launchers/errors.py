"""Exceptions raised about launchers."""

from __future__ import annotations

from typing import Any

from parsl.providers.errors import ExecutionProviderException

__all__ = ["BadLauncher"]


class BadLauncher(ExecutionProviderException, TypeError):
    """Something that is not a launcher (not callable) was given as a provider's ``launcher``."""

    def __init__(self, launcher: Any, reason: str | None = None):
        # ``args`` holds ``reason`` when given; the only attribute is ``launcher``, as in Parsl
        if reason is None:
            super().__init__(launcher)
        else:
            super().__init__(launcher, reason)
        self.launcher = launcher

    @property
    def reason(self) -> str | None:
        """Why the launcher was refused, when the raiser said."""
        return self.args[1] if len(self.args) > 1 else None

    def __str__(self) -> str:
        if self.reason:
            return f"Bad Launcher provided: {self.launcher}, {self.reason}"
        return (
            f"Bad Launcher provided: {self.launcher}, expecting a parsl.launchers.base.Launcher "
            "(for example SingleNodeLauncher()) or another callable"
        )
