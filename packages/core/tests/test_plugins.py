"""The plugin system: hooks, per-DataFlowKernel observers, entry points, disabling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pluggy
import pytest

import parsl
from parsl import hookimpl, python_app
from parsl.config import Config
from parsl.dataflow.states import States
from parsl.executors import ThreadPoolExecutor
from parsl.plugins import new_plugin_manager, reset_default_plugin_manager


@python_app
def double(x):
    return 2 * x


@python_app
def broken():
    raise KeyError("nope")


class Recorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def parsl_dfk_started(self, dfk):
        self.events.append(("started", dfk.run_id))

    @hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        self.events.append(("state", task.id, old_state, new_state))

    @hookimpl
    def parsl_dfk_stopped(self, dfk):
        self.events.append(("stopped", dfk.run_id))


def _config(tmp_path, **kw):
    return Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path / "runinfo"), **kw)


def test_lifecycle_hooks_see_start_states_and_stop(tmp_path):
    rec = Recorder()
    with parsl.load(_config(tmp_path, observers=[rec])) as dfk:
        assert double(4).result() == 8
        with pytest.raises(KeyError):
            broken().result()
        run_id = dfk.run_id
    assert rec.events[0] == ("started", run_id)
    assert rec.events[-1] == ("stopped", run_id)
    states = [e for e in rec.events if e[0] == "state"]
    ok = [(o, n) for _, tid, o, n in states if tid == 0]
    assert ok == [
        (States.unsched, States.pending),
        (States.pending, States.launched),
        (States.launched, States.exec_done),
    ]
    assert (States.launched, States.failed) in [(o, n) for _, tid, o, n in states if tid == 1]


def test_implementation_may_take_fewer_arguments(tmp_path):
    seen = []

    class Small:
        @hookimpl
        def parsl_task_state_changed(self, new_state):
            seen.append(new_state)

    with parsl.load(_config(tmp_path, observers=[Small()])):
        double(1).result()
    assert seen[-1] == States.exec_done


def test_observers_are_per_dataflowkernel(tmp_path):
    a, b = Recorder(), Recorder()
    from parsl.dataflow.dflow import DataFlowKernel

    dfk_a = DataFlowKernel(_config(tmp_path, observers=[a]))
    dfk_b = DataFlowKernel(_config(tmp_path, observers=[b]))
    try:
        fa = python_app(lambda: 1, data_flow_kernel=dfk_a)()
        assert fa.result() == 1
        fb = python_app(lambda: 2, data_flow_kernel=dfk_b)()
        assert fb.result() == 2
    finally:
        dfk_a.cleanup()
        dfk_b.cleanup()
    ids_a = {e[1] for e in a.events if e[0] == "state"}
    ids_b = {e[1] for e in b.events if e[0] == "state"}
    assert ids_a == {0} and ids_b == {0}
    assert ("started", dfk_b.run_id) not in a.events
    assert ("started", dfk_a.run_id) not in b.events


def test_an_observer_that_raises_never_breaks_the_workflow(tmp_path):
    class Bad:
        @hookimpl
        def parsl_task_state_changed(self, task, new_state):
            raise RuntimeError("observer bug")

        @hookimpl
        def parsl_dfk_started(self, dfk):
            raise RuntimeError("observer bug")

    rec = Recorder()
    with parsl.load(_config(tmp_path, observers=[Bad(), rec])) as dfk:
        assert double(21).result() == 42
        log = os.path.join(dfk.run_dir, "parsl.log")
    assert any(e[0] == "stopped" for e in rec.events)
    with open(log) as f:
        text = f.read()
    assert "observer bug" in text and "parsl_task_state_changed" in text


def test_no_observer_means_no_state_hook_calls(tmp_path):
    with parsl.load(_config(tmp_path)) as dfk:
        assert dfk.plugins.observes_tasks is False


def test_misspelled_hook_is_caught_by_check_pending():
    class Typo:
        @hookimpl
        def parsl_task_state_change(self, task):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        new_plugin_manager(observers=[Typo()])


def test_builtins_register_through_hooks_keyed_on_plugin_name():
    from parsl.data_provider.file_noop import NoOpFileStaging
    from parsl.launchers.launchers import SimpleLauncher
    from parsl.providers import LocalProvider

    pm = new_plugin_manager()
    assert pm.executors()["threads"] is ThreadPoolExecutor  # its PLUGIN_NAME
    assert pm.providers()["LocalProvider"] is LocalProvider  # no PLUGIN_NAME: the class name
    assert pm.launchers()["SimpleLauncher"] is SimpleLauncher
    assert {"SimpleLauncher", "SingleNodeLauncher"} <= set(pm.launchers())
    assert pm.staging_providers()["file"] is NoOpFileStaging
    assert [type(s).__name__ for s in pm.default_staging()][:1] == ["NoOpFileStaging"]
    assert pm.find_class("executors", "ThreadPoolExecutor") is ThreadPoolExecutor
    assert pm.find_class("providers", "NoSuchProvider") is None
    with pytest.raises(ValueError, match="unknown plugin registry"):
        pm.find_class("serializers", "PickleSerializer")


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """A real installed distribution (dist-info on sys.path) publishing a `parsl` entry point."""
    site = tmp_path / "site"
    (site / "fakeparslplugin").mkdir(parents=True)
    (site / "fakeparslplugin" / "__init__.py").write_text(
        textwrap.dedent("""
        from concurrent.futures import Future
        from parsl import hookimpl
        from parsl.executors.base import ParslExecutor

        class EchoExecutor(ParslExecutor):
            PLUGIN_NAME = "echo"
            def __init__(self, label="echo"):
                super().__init__()
                self.label = label
            def start(self):
                pass
            def submit(self, func, resource_specification, *args, **kwargs):
                f = Future()
                f.set_result(("echo", func(*args, **kwargs)))
                return f
            def shutdown(self):
                pass

        @hookimpl
        def parsl_register_executors():
            return [EchoExecutor]

        from parsl.providers.local.local import LocalProvider
        from parsl.launchers.launchers import SimpleLauncher

        class FakeClusterProvider(LocalProvider):
            pass

        class FakeLauncher(SimpleLauncher):
            pass

        @hookimpl
        def parsl_register_providers():
            return [FakeClusterProvider]

        @hookimpl
        def parsl_register_launchers():
            return [FakeLauncher]
    """)
    )
    dist = site / "fakeparslplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeparslplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[parsl]\nfake = fakeparslplugin\n")
    monkeypatch.syspath_prepend(str(site))
    reset_default_plugin_manager()
    yield site
    reset_default_plugin_manager()
    sys.modules.pop("fakeparslplugin", None)
    import parsl.executors as ex
    import parsl.launchers as la
    import parsl.providers as pr

    ex.__dict__.pop("EchoExecutor", None)
    pr.__dict__.pop("FakeClusterProvider", None)
    la.__dict__.pop("FakeLauncher", None)


def test_plugin_providers_and_launchers_import_from_parsl_paths(fake_distribution):
    from parsl.launchers import FakeLauncher
    from parsl.providers import FakeClusterProvider

    assert FakeClusterProvider.__module__ == "fakeparslplugin"
    assert FakeLauncher.__module__ == "fakeparslplugin"
    with pytest.raises(ImportError):
        from parsl.providers import NoSuchProvider  # noqa: F401


def test_entry_point_plugin_is_found_and_usable(fake_distribution, tmp_path):
    from parsl.executors import EchoExecutor  # resolved through the plugin registry

    with parsl.load(Config(executors=[EchoExecutor()], run_dir=str(tmp_path / "r"))):
        assert double(5).result() == ("echo", 10)


def test_disable_plugins_env(fake_distribution, monkeypatch):
    monkeypatch.setenv("PARSL_DISABLE_PLUGINS", "1")
    assert "echo" not in new_plugin_manager().executors()
    assert "threads" in new_plugin_manager().executors()
    monkeypatch.setenv("PARSL_DISABLE_PLUGINS", "fake")
    assert "echo" not in new_plugin_manager().executors()
    monkeypatch.setenv("PARSL_DISABLE_PLUGINS", "someotherplugin")
    assert "echo" in new_plugin_manager().executors()


def test_unknown_executor_name_says_how_to_find_plugins():
    import parsl.executors

    with pytest.raises(AttributeError, match="python -m parsl plugins"):
        parsl.executors.NoSuchExecutor  # noqa: B018


def test_cli_lists_plugins(fake_distribution):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake_distribution)] + sys.path))
    out = subprocess.run(
        [sys.executable, "-m", "parsl", "plugins"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "parsl.builtin_plugin" in out and "ThreadPoolExecutor" in out
    assert "fake  (fakeparslplugin)" in out and "EchoExecutor" in out
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "parsl", "plugins", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
    names = {row["name"]: row for row in data}
    assert names["fake"]["provides"]["executors"] == ["EchoExecutor"]
    assert "serializers" not in names["parsl.builtin_plugin"]["provides"]
