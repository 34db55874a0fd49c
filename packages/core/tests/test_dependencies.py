"""Importing parsl needs nothing but parslcore's declared dependencies (and the standard library)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
#: what a user's script touches: the package, its Config, the kernel, the pool executor, utils
IMPORTS = "parsl, parsl.config, parsl.dataflow.dflow, parsl.concurrent, parsl.utils, parsl.executors.threads"


def _top_level_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_importing_parsl_needs_only_declared_dependencies():
    with open(PYPROJECT, "rb") as f:
        declared = tomllib.load(f)["project"]["dependencies"]
    allowed = {re.match(r"[A-Za-z0-9_.-]+", d)[0].lower().replace("-", "_") for d in declared}
    at_startup = _top_level_modules("")  # site hooks (coverage, editable finders) load before us
    loaded = _top_level_modules(f"import {IMPORTS}") - at_startup
    third_party = {
        m for m in loaded if m not in sys.stdlib_module_names and m != "parsl" and not m.startswith("_")
    }
    assert third_party <= allowed, f"imported but not declared in {PYPROJECT.name}: {third_party - allowed}"
    assert "typing_extensions" not in loaded  # annotations only (under TYPE_CHECKING)
