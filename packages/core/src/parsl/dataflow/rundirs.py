"""Numbered run directories: ``runinfo/000``, ``runinfo/001``, ..."""

from __future__ import annotations

import os

__all__ = ["make_rundir"]


def make_rundir(path: str) -> str:
    """Create and return the next free numbered directory under ``path``."""
    os.makedirs(path, exist_ok=True)
    existing = [int(n) for n in os.listdir(path) if n.isdigit()]
    n = max(existing) + 1 if existing else 0
    while True:
        candidate = os.path.join(path, f"{n:03d}")
        try:
            os.mkdir(candidate)
            return os.path.abspath(candidate)
        except FileExistsError:  # another process took it: try the next one
            n += 1
