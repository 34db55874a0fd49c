"""Which Python distributions a worker pool's environment has, for ``connected_managers_packages()``.

The ``parsl`` import package is distributed as ``parslcore``: where no distribution named
``parsl`` is installed, ``parsl`` is reported with parslcore's version too, so software that
checks ``packages["parsl"]`` against ``parsl.__version__`` (as Parsl's own tests do) finds it.

Read from the ``Name:`` and ``Version:`` headers of each ``*.dist-info/METADATA`` (or
``*.egg-info``) on ``sys.path``, stopping at the end of the headers: a few milliseconds for a
hundred distributions, where parsing every METADATA file with ``importlib.metadata`` takes
hundreds, which a pool would spend before it can register.
"""

from __future__ import annotations

import os
import sys

__all__ = ["installed_packages"]


def _headers(path: str) -> tuple[str | None, str | None]:
    name = version = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("Name:"):
                    name = line[5:].strip()
                elif line.startswith("Version:"):
                    version = line[8:].strip()
                if (name and version) or not line.strip():
                    break
    except OSError:
        pass
    return name, version


def installed_packages(path: list[str] | None = None) -> dict[str, str]:
    """``{distribution name: version}`` of what is importable from ``path`` (default
    ``sys.path``); where a name appears twice the first one on the path wins, as on import."""
    found: dict[str, str] = {}
    for entry in sys.path if path is None else path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            for d in listing:
                if d.name.endswith(".dist-info"):
                    meta = os.path.join(d.path, "METADATA")
                elif d.name.endswith(".egg-info"):
                    meta = os.path.join(d.path, "PKG-INFO") if d.is_dir() else d.path
                else:
                    continue
                name, version = _headers(meta)
                if name and version and name not in found:
                    found[name] = version
    if "parsl" not in found and "parslcore" in found:
        found["parsl"] = found["parslcore"]
    return found
