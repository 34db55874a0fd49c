"""The built-in local provider."""

from __future__ import annotations

from parsl.providers.local.local import LocalProvider

__all__ = ["LocalProvider"]
