"""Parsl's WorkQueue, TaskVine, Flux and RADICAL-Pilot executors import from their Parsl paths
as real executor classes; building one raises a clear error (where Parsl's fails without the
runtime: at construction)."""

from __future__ import annotations

import dataclasses
import importlib
import pickle

import pytest

from parsl.config import Config
from parsl.errors import OptionalModuleMissing
from parsl.executors.base import ParslExecutor
from parsl.executors.not_shipped import ExecutorNotShippedError
from parsl.executors.status_handling import BlockProviderExecutor

#: class -> (Parsl import paths, base class in Parsl, what the message names)
EXECUTORS = {
    "WorkQueueExecutor": (
        ["parsl.executors", "parsl.executors.workqueue.executor", "parsl.executors.workqueue"],
        BlockProviderExecutor,
        "ndcctools",
    ),
    "TaskVineExecutor": (
        ["parsl.executors.taskvine", "parsl.executors.taskvine.executor"],
        BlockProviderExecutor,
        "ndcctools",
    ),
    "FluxExecutor": (["parsl.executors", "parsl.executors.flux.executor"], ParslExecutor, "flux-core"),
    "RadicalPilotExecutor": (
        ["parsl.executors.radical", "parsl.executors.radical.executor"],
        ParslExecutor,
        "radical.pilot",
    ),
}


def load(name):
    paths, _, _ = EXECUTORS[name]
    found = {getattr(importlib.import_module(p), name) for p in paths}
    assert len(found) == 1, f"{name} differs between {paths}"
    return found.pop()


@pytest.mark.parametrize("name", sorted(EXECUTORS))
def test_is_one_real_executor_class_at_every_parsl_path(name):
    cls = load(name)
    _, base, _ = EXECUTORS[name]
    assert issubclass(cls, base) and issubclass(cls, ParslExecutor)
    assert {cls: "usable as a key"}[cls] == "usable as a key"
    assert pickle.loads(pickle.dumps(cls)) is cls


@pytest.mark.parametrize("name", sorted(EXECUTORS))
def test_building_one_says_what_to_install_and_what_to_use(name):
    cls = load(name)
    _, _, needs = EXECUTORS[name]
    args = ("local.localhost",) if name == "RadicalPilotExecutor" else ()
    with pytest.raises(ExecutorNotShippedError) as info:
        cls(*args, label="x")
    err = info.value
    assert isinstance(err, OptionalModuleMissing)  # what Parsl raises for a missing runtime
    text = str(err)
    assert text.startswith(f"{name} needs {needs}")
    assert "parslcore does not ship" in text
    assert "pip install parsl" in text and "pip install 'parslcore[htex]'" in text
    assert err.executor == name


def test_flux_error_is_also_an_os_error():
    # Parsl raises EnvironmentError when it cannot find Flux
    with pytest.raises(EnvironmentError, match="flux-core"):
        load("FluxExecutor")()


def test_radical_refuses_a_remote_resource_without_config_first():
    with pytest.raises(ValueError, match="rpex_cfg="):
        load("RadicalPilotExecutor")("ornl.summit")


def test_config_checks_accept_the_classes():
    # no instance can exist, but type checks and isinstance against the classes work
    from parsl.executors import FluxExecutor, WorkQueueExecutor

    ex = Config().executors[0]
    assert not isinstance(ex, (WorkQueueExecutor, FluxExecutor))
    with pytest.raises(TypeError, match="class WorkQueueExecutor, not an instance"):
        Config(executors=[WorkQueueExecutor])


def test_flux_task_result():
    from parsl.executors.flux import TaskResult

    assert TaskResult(returnval=1, exception=None).returnval == 1


def test_taskvine_configs_are_dataclasses_with_parsl_fields():
    from parsl.executors.taskvine import TaskVineFactoryConfig, TaskVineManagerConfig

    manager = [f.name for f in dataclasses.fields(TaskVineManagerConfig)]
    assert manager == [
        "port",
        "address",
        "project_name",
        "project_password_file",
        "env_vars",
        "init_command",
        "env_pack",
        "app_pack",
        "extra_pkgs",
        "max_retries",
        "library_config",
        "shared_fs",
        "autolabel",
        "autolabel_algorithm",
        "autolabel_window",
        "autocategory",
        "enable_peer_transfers",
        "wait_for_workers",
        "tune_parameters",
        "vine_log_dir",
    ]
    factory = [f.name for f in dataclasses.fields(TaskVineFactoryConfig)]
    assert factory == [
        "factory_timeout",
        "scratch_dir",
        "min_workers",
        "max_workers",
        "workers_per_cycle",
        "worker_options",
        "worker_executable",
        "worker_timeout",
        "cores",
        "gpus",
        "memory",
        "disk",
        "python_env",
        "batch_type",
        "condor_requirements",
        "batch_options",
        "_project_port",
        "_project_address",
        "_project_name",
        "_project_password_file",
    ]
    m = TaskVineManagerConfig(port=9123, shared_fs=True)
    assert (m.port, m.shared_fs, m.max_retries, m.autolabel_algorithm) == (9123, True, 1, "max-xput")
    assert m == TaskVineManagerConfig(port=9123, shared_fs=True)
    f = TaskVineFactoryConfig(max_workers=4)
    assert (f.min_workers, f.max_workers, f.worker_executable, f.batch_type) == (1, 4, "vine_worker", "local")
    with pytest.raises(TypeError):
        TaskVineManagerConfig(no_such_field=1)


def test_radical_resource_config_has_parsl_defaults():
    from parsl.executors.radical import ResourceConfig

    rc = ResourceConfig()
    assert (rc.masters, rc.workers, rc.worker_cores_per_node, rc.worker_type) == (1, 1, 4, "DefaultWorker")
    with pytest.raises(ExecutorNotShippedError, match=r"radical\.pilot"):
        rc.get_config()


def test_unknown_executor_name_is_an_attribute_error():
    import parsl.executors

    with pytest.raises(AttributeError, match="NoSuchExecutor"):
        parsl.executors.NoSuchExecutor  # noqa: B018
    assert {"WorkQueueExecutor", "FluxExecutor", "GlobusComputeExecutor"} <= set(dir(parsl.executors))
