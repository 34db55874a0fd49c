"""The local channel."""

from __future__ import annotations

from parsl.channels.local.local import LocalChannel

__all__ = ["LocalChannel"]
