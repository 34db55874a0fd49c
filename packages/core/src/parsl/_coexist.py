"""Detect upstream Parsl and parslcore installed side by side.

Both distributions, ``parsl`` (upstream) and ``parslcore`` (this one), own the ``parsl``
import package. Installed into the same ``site-packages`` they overwrite each other's files
and leave a mix that neither project ships: a kernel from one with leftover modules of the
other. pip does not notice; this module does.

:func:`check_at_import` runs from ``parsl/__init__.py`` and costs one ``listdir`` of the
directory holding the ``parsl`` package (tens of microseconds): only when a ``parsl-*``
metadata folder sits there does it read any metadata. :func:`diagnose` is the thorough check
behind ``python -m parsl doctor``, which also catches the reverse order (upstream installed
over parslcore), where parslcore's ``__init__`` is gone and cannot speak for itself.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module runs first in `import parsl`
    from typing import Any

__all__ = [
    "FIX",
    "ConflictingInstallError",
    "check_at_import",
    "conflict_message",
    "diagnose",
    "find_conflict",
]

#: the command that repairs a mixed installation
FIX = "pip uninstall -y parsl parslcore && pip install parslcore"

#: first-party distributions released in lockstep with parslcore
SIBLINGS = frozenset(
    {
        "parsl-executor-htex",
        "parsl-providers",
        "parsl-monitoring",
        "parsl-staging",
        "parsl-executor-globus-compute",
    }
)

#: set to 1 to turn the import-time error into a warning (for an environment you repair later)
IGNORE_ENV = "PARSL_IGNORE_INSTALL_CONFLICT"


class ConflictingInstallError(ImportError):
    """Upstream ``parsl`` and ``parslcore`` are installed into the same place."""


def conflict_message(upstream_version: str, core_version: str, location: str) -> str:
    """The report for both distributions installed into ``location``."""
    return (
        f"Both upstream Parsl (distribution 'parsl' {upstream_version}) and parslcore "
        f"(distribution 'parslcore' {core_version}) are installed in {location}. Both own the "
        f"'parsl' import package, so its files are now a mix of the two and neither works "
        f"reliably. Uninstalling only one of them would also delete files the other needs. "
        f"Fix: {FIX}   (or, to keep upstream Parsl: pip uninstall -y parsl parslcore && "
        f"pip install parsl)"
    )


def _upstream_info(site_dir: str, names: list[str]) -> tuple[str, str] | None:
    """(version, metadata folder) of an upstream ``parsl`` owning ``parsl/__init__.py`` in ``site_dir``."""
    for name in names:
        if not (name.startswith("parsl-") and name.endswith((".dist-info", ".egg-info"))):
            continue
        meta_dir = os.path.join(site_dir, name)
        listing = os.path.join(meta_dir, "RECORD" if name.endswith(".dist-info") else "installed-files.txt")
        try:
            with open(listing, encoding="utf-8") as f:
                owned = any(
                    line.strip().replace("\\", "/").split(",", 1)[0].endswith("parsl/__init__.py")
                    for line in f
                )
        except OSError:
            owned = True  # metadata without a file list: pip still believes parsl is installed here
        if owned:
            stem = name[len("parsl-") :].removesuffix(".dist-info").removesuffix(".egg-info")
            return stem.split("-", 1)[0], meta_dir
    return None


def check_at_import(package_dir: str, core_version: str) -> None:
    """Raise ConflictingInstallError if upstream ``parsl`` is installed next to this package."""
    site_dir = os.path.dirname(package_dir)
    try:
        names = os.listdir(site_dir)
    except OSError:
        return
    # the fast path: no name in site-packages starts with "parsl-" (siblings use "parsl_")
    if not any(n.startswith("parsl-") for n in names):
        return
    found = _upstream_info(site_dir, names)
    if found is None:
        return
    message = conflict_message(found[0], core_version, site_dir)
    if os.environ.get(IGNORE_ENV, "").strip() not in ("", "0"):
        import warnings

        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return
    raise ConflictingInstallError(message, name="parsl")


def diagnose() -> list[str]:
    """Every problem with how ``parsl`` is installed, as messages (empty when healthy).

    Finds upstream ``parsl`` and ``parslcore`` in the same folder (in either install order),
    one shadowing the other from different ``sys.path`` entries, and sibling packages whose
    version differs from parslcore's. Reads installed metadata: for the command line, not
    for ``import parsl``.
    """
    owners, siblings = _installed()
    problems = []
    conflict = _conflict(owners.get("parsl"), owners.get("parslcore"))
    if conflict:
        problems.append(conflict)
    core = owners.get("parslcore")
    if core is not None:
        for dist in siblings:
            if dist.version != core.version:
                name = dist.metadata["Name"]
                problems.append(
                    f"{name} {dist.version} does not match parslcore {core.version}: sibling packages "
                    f"move in lockstep. Fix: pip install '{name}=={core.version}'"
                )
    return problems


def find_conflict() -> str | None:
    """The report when upstream ``parsl`` and ``parslcore`` are both installed, else None."""
    owners, _ = _installed()
    return _conflict(owners.get("parsl"), owners.get("parslcore"))


def _installed() -> tuple[dict[str, Any], list[Any]]:
    """The ``parsl``/``parslcore`` distributions by name, and the installed first-party siblings."""
    from importlib.metadata import distributions

    owners: dict[str, Any] = {}
    siblings = []
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in ("parsl", "parslcore"):
            owners.setdefault(name, dist)  # the first on sys.path is the one that counts
        elif name in SIBLINGS:
            siblings.append(dist)
    return owners, siblings


def _init_of(dist: Any) -> tuple[str | None, str | None]:
    """(path, recorded sha256) of ``parsl/__init__.py`` as ``dist`` installed it."""
    for f in dist.files or ():
        if str(f).replace("\\", "/") == "parsl/__init__.py":
            return str(dist.locate_file(f)), (f.hash.value if f.hash is not None else None)
    return None, None


def _conflict(upstream: Any, core: Any) -> str | None:
    """The report when both distributions are installed, or None."""
    if upstream is None or core is None:
        return None
    import base64
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("parsl")
    live = os.path.realpath(spec.origin) if spec is not None and spec.origin else None
    up_path, up_hash = _init_of(upstream)
    core_path, core_hash = _init_of(core)
    if up_path and core_path and os.path.realpath(up_path) == os.path.realpath(core_path):
        message = conflict_message(upstream.version, core.version, os.path.dirname(os.path.dirname(up_path)))
        if live is not None and os.path.exists(live):
            with open(live, "rb") as fh:
                actual = base64.urlsafe_b64encode(hashlib.sha256(fh.read()).digest()).rstrip(b"=").decode()
            owner = {
                up_hash: f"upstream parsl {upstream.version}",
                core_hash: f"parslcore {core.version}",
            }.get(actual)
            if owner:
                message += f" 'import parsl' currently runs the __init__.py of {owner}."
        return message
    return (
        f"Upstream Parsl ('parsl' {upstream.version}) and parslcore ({core.version}) are both "
        f"installed, in different places; 'import parsl' loads {live}, which shadows the other, "
        f"and the other's metadata misleads pip and other tools. Fix: {FIX}"
    )
