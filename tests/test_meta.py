"""Meta-tests: hooks documented and tested, entry points load, versions in lockstep."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from pathlib import Path

import pluggy
import pytest

import parsl
from parsl import hookimpl, hookspecs

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

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


class EveryHook:
    """A plugin implementing every hookspec with all its arguments, recording each call."""

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, object]]] = {}

    def _record(self, hook: str, **kwargs: object) -> None:
        self.calls.setdefault(hook, []).append(kwargs)

    @hookimpl
    def parsl_register_executors(self):
        self._record("parsl_register_executors")
        return []

    @hookimpl
    def parsl_register_providers(self):
        self._record("parsl_register_providers")
        return []

    @hookimpl
    def parsl_register_launchers(self):
        self._record("parsl_register_launchers")
        return []

    @hookimpl
    def parsl_register_staging_providers(self):
        self._record("parsl_register_staging_providers")
        return []

    @hookimpl
    def parsl_default_staging(self):
        self._record("parsl_default_staging")
        return []

    @hookimpl
    def parsl_dfk_started(self, dfk):
        self._record("parsl_dfk_started", dfk=dfk)

    @hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        self._record("parsl_task_state_changed", dfk=dfk, task=task, old_state=old_state, new_state=new_state)

    @hookimpl
    def parsl_task_prepared(self, dfk, task, submission):
        self._record("parsl_task_prepared", dfk=dfk, task=task, submission=submission)

    @hookimpl
    def parsl_executor_reported(self, dfk, executor, messages):
        self._record("parsl_executor_reported", dfk=dfk, executor=executor, messages=messages)

    @hookimpl
    def parsl_dfk_stopped(self, dfk):
        self._record("parsl_dfk_stopped", dfk=dfk)


def _double(x):
    return 2 * x


@pytest.fixture(scope="module")
def hook_calls(tmp_path_factory):
    """Drive Parsl through its real paths with an :class:`EveryHook` plugin registered: name
    lookups and the plugin listing on the process-wide manager, one workflow as an observer."""
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor
    from parsl.plugins import default_plugin_manager

    rec = EveryHook()
    plugins = default_plugin_manager()
    plugins.register(rec)
    try:
        missing = "NoSuchPluginClassForMetaTest"
        for module in ("parsl.executors", "parsl.providers", "parsl.launchers"):
            with pytest.raises(AttributeError):
                getattr(importlib.import_module(module), missing)
        plugins.describe()  # what `python -m parsl plugins` lists
    finally:
        plugins.unregister(rec)
    executor = ThreadPoolExecutor(label="meta")
    config = Config(executors=[executor], observers=[rec], run_dir=str(tmp_path_factory.mktemp("meta")))
    with parsl.load(config):
        assert parsl.python_app(_double, executors=["meta"])(21).result() == 42
        executor.send_monitoring_messages([{"type": "meta-test"}])
    return rec.calls


def test_the_recorder_implements_every_hook():
    assert {n for n in dir(EveryHook) if n.startswith("parsl_")} == set(_hooks())


@pytest.mark.parametrize("hook", _hooks())
def test_every_hook_is_called_by_parsl_with_its_arguments(hook, hook_calls):
    calls = hook_calls.get(hook)
    assert calls, f"Parsl never called {hook} (a plugin implementing it was registered)"
    params = set(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert all(set(call) == params and None not in call.values() for call in calls)


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
