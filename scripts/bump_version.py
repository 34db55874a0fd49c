"""Move every package to a new version in lockstep: ``python scripts/bump_version.py 2026.12.1``.

Each package has one version source: the module its ``pyproject.toml`` names under
``[tool.hatch.version] path`` (``parsl/version.py`` for core, each sibling's ``__init__.py``),
which hatchling reads at build time (``dynamic = ["version"]``) and which is the package's
``__version__`` at run time. This script rewrites those modules and every ``==`` pin between
sibling packages. ``--check`` changes nothing and lists every disagreement instead (the
meta-test runs the same check). ``--root DIR`` works on another checkout.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # Python 3.10
    try:
        import tomli as tomllib
    except ImportError:
        raise SystemExit("bump_version: on Python 3.10 it needs tomli: pip install tomli") from None

__all__ = ["SIBLINGS", "bump", "check", "current_version", "version_sources"]

SIBLINGS = (
    "parslcore",
    "parsl-executor-htex",
    "parsl-executor-globus-compute",
    "parsl-providers",
    "parsl-monitoring",
    "parsl-staging",
)
#: the one version literal of a version source module
_LITERAL_RE = re.compile(r'^(__version__|VERSION) = "([^"]*)"$', re.M)
_REQUIREMENT_RE = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?(.*)$")


def _project(pyproject: Path) -> dict[str, Any]:
    with open(pyproject, "rb") as f:
        return tomllib.load(f)


def version_sources(root: Path) -> dict[Path, Path]:
    """Each package's ``pyproject.toml`` mapped to the module holding its version."""
    sources = {}
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        path = _project(pyproject).get("tool", {}).get("hatch", {}).get("version", {}).get("path")
        sources[pyproject] = pyproject.parent / path if path else pyproject
    return sources


def _read_version(source: Path) -> str | None:
    m = _LITERAL_RE.search(source.read_text()) if source.suffix == ".py" else None
    return m.group(2) if m else None


def current_version(root: Path) -> str:
    """The version of core (``parsl/version.py``)."""
    version = _read_version(root / "packages/core/src/parsl/version.py")
    if version is None:
        raise SystemExit("bump_version: packages/core/src/parsl/version.py has no VERSION literal")
    return version


def bump(root: Path, new: str) -> list[Path]:
    """Set every package to ``new``; return the files changed."""
    if not re.fullmatch(r"\d+(\.\d+)*([a-z0-9.+-]*)", new):
        raise SystemExit(f"bump_version: {new!r} is not a version like 2026.12.1")
    sibling = "|".join(re.escape(s) for s in SIBLINGS)
    pin_re = re.compile(rf'((?:{sibling})(?:\[[^\]]*\])?)==[^"\s,;]+')
    rewrites = {}
    for pyproject, source in version_sources(root).items():
        rewrites[pyproject] = lambda text: pin_re.sub(rf"\1=={new}", text)
        if source != pyproject:
            rewrites[source] = lambda text: _LITERAL_RE.sub(rf'\1 = "{new}"', text, count=1)
    changed = []
    for path, rewrite in rewrites.items():
        text = path.read_text()
        out = rewrite(text)
        if out != text:
            path.write_text(out)
            changed.append(path)
    return changed


def check(root: Path) -> list[str]:
    """Every way the packages' versions, version sources and sibling pins disagree (empty: none)."""
    problems = []
    versions: dict[str, str] = {}
    for pyproject, source in version_sources(root).items():
        rel = pyproject.relative_to(root)
        project = _project(pyproject)["project"]
        if "version" in project or "version" not in project.get("dynamic", []):
            problems.append(f"{rel}: the version must be dynamic = ['version'], read from one module")
        if source == pyproject:
            problems.append(f"{rel}: no [tool.hatch.version] path names the module holding the version")
            continue
        version = _read_version(source) if source.is_file() else None
        if version is None:
            problems.append(f'{source.relative_to(root)}: no __version__/VERSION = "..." literal')
            continue
        versions[project["name"]] = version
        for other in sorted(source.parent.rglob("*.py")):
            if other != source and _read_version(other) is not None:
                problems.append(
                    f"{other.relative_to(root)}: a second version literal; import {source.name}'s"
                )
    if len(set(versions.values())) > 1:
        problems.append(f"package versions differ: {versions}")
    expected = versions.get("parslcore") or next(iter(versions.values()), None)
    for pyproject in version_sources(root):
        project = _project(pyproject)["project"]
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements.extend(extra)
        for requirement in requirements:
            m = _REQUIREMENT_RE.match(requirement)
            if m and m.group(1) in SIBLINGS and m.group(3) != f"=={expected}":
                problems.append(f"{project['name']} requires {requirement!r}; siblings pin =={expected}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("version", nargs="?", help="the new version (omit with --check)")
    parser.add_argument("--check", action="store_true", help="report disagreements, change nothing")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.root)
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"every package is at {current_version(args.root)}")
        return 1 if problems else 0
    if args.version is None:
        parser.error("give the new version, or --check")
    for path in bump(args.root, args.version):
        print(f"updated {path}")
    print("Rebuild environments to pick the new versions up: hatch env prune")
    return 0


if __name__ == "__main__":
    sys.exit(main())
