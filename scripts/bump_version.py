"""Move every package to a new version in lockstep: ``python scripts/bump_version.py 2026.12.1``.

Rewrites each ``packages/*/pyproject.toml`` version and every ``==`` pin between sibling
packages, ``parsl/version.py`` and the ``__version__`` of each sibling's ``__init__.py``.
``--root DIR`` works on another checkout.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SIBLINGS = (
    "parslcore",
    "parsl-executor-htex",
    "parsl-executor-globus-compute",
    "parsl-providers",
    "parsl-monitoring",
    "parsl-staging",
)
_VERSION_RE = re.compile(r'^version = "([^"]+)"$', re.M)
_INIT_VERSION_RE = re.compile(r'^__version__ = "[^"]+"$', re.M)


def bump(root: Path, new: str) -> list[Path]:
    """Set every package to ``new``; return the files changed."""
    if not re.fullmatch(r"\d+(\.\d+)*([a-z0-9.+-]*)", new):
        raise SystemExit(f"bump_version: {new!r} is not a version like 2026.12.1")
    changed = []
    sibling = "|".join(re.escape(s) for s in SIBLINGS)
    pin_re = re.compile(rf'((?:{sibling})(?:\[[^\]]*\])?)==[^"\s,;]+')
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        text = pyproject.read_text()
        out = _VERSION_RE.sub(f'version = "{new}"', text, count=1)
        out = pin_re.sub(rf"\1=={new}", out)
        if out != text:
            pyproject.write_text(out)
            changed.append(pyproject)
    for init in sorted(root.glob("packages/*/src/parsl_*/__init__.py")):
        text = init.read_text()
        out = _INIT_VERSION_RE.sub(f'__version__ = "{new}"', text, count=1)
        if out != text:
            init.write_text(out)
            changed.append(init)
    version_py = root / "packages/core/src/parsl/version.py"
    text = version_py.read_text()
    out = re.sub(r'^VERSION = "[^"]+"$', f'VERSION = "{new}"', text, flags=re.M)
    if out != text:
        version_py.write_text(out)
        changed.append(version_py)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("version")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    for path in bump(args.root, args.version):
        print(f"updated {path}")
    print("Rebuild environments to pick the new versions up: hatch env prune")
    return 0


if __name__ == "__main__":
    sys.exit(main())
