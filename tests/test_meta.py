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


def test_versions_and_sibling_pins_agree():
    metas = {}
    for pkg in PACKAGES:
        meta = tomllib.loads((pkg / "pyproject.toml").read_text())["project"]
        metas[meta["name"]] = meta
    versions = {m["version"] for m in metas.values()}
    assert len(versions) == 1, f"package versions differ: {versions}"
    version = versions.pop()
    from parsl.version import VERSION

    assert version == VERSION
    sibling_names = {
        "parslcore",
        "parsl-executor-htex",
        "parsl-executor-globus-compute",
        "parsl-providers",
        "parsl-monitoring",
        "parsl-staging",
    }
    for meta in metas.values():
        reqs = list(meta.get("dependencies", []))
        for extra in meta.get("optional-dependencies", {}).values():
            reqs.extend(extra)
        for req in reqs:
            m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?(.*)$", req)
            assert m
            if m.group(1) in sibling_names:
                assert m.group(3) == f"=={version}", f"{meta['name']} pins {req}; siblings pin =={version}"


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: p.name)
def test_every_package_has_readme_typed_marker_and_tests(pkg):
    assert (pkg / "README.md").is_file()
    assert list(pkg.glob("src/*/py.typed")), f"{pkg.name} has no py.typed"
    assert list((pkg / "tests").glob("test_*.py")), f"{pkg.name} has no tests"
    assert not list((pkg / "tests").glob("__init__.py"))
