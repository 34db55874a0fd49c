"""Meta-tests: hooks documented and tested, entry points load, versions in lockstep."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import entry_points
from pathlib import Path

import pluggy
import pytest
import tomllib

from parsl import hookspecs

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())


def _hooks() -> list[str]:
    return [n for n in dir(hookspecs) if n.startswith("parsl_") and callable(getattr(hookspecs, n))]


def _doc_signature(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}".replace('"', "").replace("'", "")


def test_hookspec_list_is_not_empty():
    assert len(_hooks()) >= 9


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    heading = f"### `{_doc_signature(hook)}`"
    assert heading in docs, f"docs/plugins.md lacks the heading {heading}"


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip()


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_is_exercised_by_a_test(hook):
    here = Path(__file__).resolve()
    test_files = [p for p in ROOT.glob("packages/*/tests/**/*.py")] + [
        p for p in (ROOT / "tests").glob("**/*.py") if p.resolve() != here
    ]
    using = [p for p in test_files if re.search(rf"\b{hook}\b|\b{_facade(hook)}\(", p.read_text())]
    assert using, f"no test mentions {hook}"


def _facade(hook: str) -> str:
    """Name of the typed facade method of ParslPlugins that calls the hook."""
    name = hook.removeprefix("parsl_")
    return {
        "register_executors": "executors",
        "register_providers": "providers",
        "register_launchers": "launchers",
        "register_staging_providers": "staging_providers",
        "register_serializers": "serializers",
    }.get(name, name)


def test_every_first_party_entry_point_loads():
    declared = {}
    for pkg in PACKAGES:
        meta = tomllib.loads((pkg / "pyproject.toml").read_text())
        for name, target in meta["project"].get("entry-points", {}).get("parsl", {}).items():
            declared[name] = target
    installed = {ep.name: ep for ep in entry_points(group="parsl")}
    for name, target in declared.items():
        assert name in installed, f"entry point {name} ({target}) is not installed: rebuild the env"
        plugin = installed[name].load()
        assert (plugin.__doc__ or "").strip(), f"{target} has no docstring saying what it registers"
        pm = pluggy.PluginManager("parsl")
        pm.add_hookspecs(hookspecs)
        pm.register(plugin, name=name)
        pm.check_pending()  # every parsl_* function it has is a known hook with valid arguments


def _bump_script():
    """scripts/bump_version.py as a module: its check() is the lockstep rule."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bump_version", ROOT / "scripts" / "bump_version.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: each package's distribution and the import package whose __version__ it must report
_DISTRIBUTIONS = {
    "parslcore": "parsl",
    "parsl-executor-htex": "parsl_executor_htex",
    "parsl-executor-globus-compute": "parsl_executor_globus_compute",
    "parsl-providers": "parsl_providers",
    "parsl-monitoring": "parsl_monitoring",
    "parsl-staging": "parsl_staging",
}


def test_versions_sibling_pins_and_dunder_versions_agree():
    """One version source per package, all equal, every sibling pin on it, every __version__ too.

    A package whose module says another version, a second hard-coded version literal, a static
    ``version =`` in a pyproject or a sibling pin left behind each fail here (see
    tests/test_bump_version.py, which breaks a copy of the tree each of these ways).
    """
    import importlib
    from importlib import metadata

    bump = _bump_script()
    assert bump.check(ROOT) == []
    version = bump.current_version(ROOT)
    assert set(_DISTRIBUTIONS) == set(bump.SIBLINGS)
    for dist, module in _DISTRIBUTIONS.items():
        assert importlib.import_module(module).__version__ == version, module
        assert metadata.version(dist) == version, (
            f"installed {dist} is stale: rebuild the env (hatch env prune)"
        )


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.name)
def test_every_package_has_readme_typed_marker_and_tests(pkg):
    assert (pkg / "README.md").is_file()
    assert list(pkg.glob("src/*/py.typed")), f"{pkg.name} has no py.typed"
    assert list((pkg / "tests").glob("test_*.py")), f"{pkg.name} has no tests"
    assert not list((pkg / "tests").glob("__init__.py"))
