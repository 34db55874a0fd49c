"""The package registers through the ``parsl`` entry point and its names resolve at Parsl's paths."""

from __future__ import annotations

import importlib.metadata

from parsl.plugins import default_plugin_manager


def test_entry_point_registers_the_executors_under_their_plugin_names():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="parsl")}
    assert eps["htex"] == "parsl_executor_htex.plugin"
    pm = default_plugin_manager()
    from parsl_executor_htex import HighThroughputExecutor, MPIExecutor

    assert pm.executors()["htex"] is HighThroughputExecutor
    assert pm.executors()["mpi"] is MPIExecutor


def test_cloudpickle_comes_before_pickle_in_parsl_serialize():
    from parsl.serialize import deserialize, facade, serialize
    from parsl_executor_htex.serialize import CloudpickleSerializer

    assert list(facade.methods_for_code)[:2] == [CloudpickleSerializer.identifier, b"01"]
    payload = serialize(lambda x: x + 1)
    assert payload.startswith(b"cp\n")
    assert deserialize(payload)(1) == 2


def test_names_at_parsl_paths():
    import parsl_executor_htex as pkg
    from parsl.executors import HighThroughputExecutor
    from parsl.executors.high_throughput.errors import ManagerLost, VersionMismatch, WorkerLost
    from parsl.executors.high_throughput.executor import HighThroughputExecutor as H2

    assert HighThroughputExecutor is H2 is pkg.HighThroughputExecutor
    assert (WorkerLost, ManagerLost, VersionMismatch) == (
        pkg.WorkerLost,
        pkg.ManagerLost,
        pkg.VersionMismatch,
    )


def test_old_max_workers_spelling_warns_and_maps():
    import pytest

    from parsl_executor_htex import HighThroughputExecutor

    with pytest.warns(DeprecationWarning):
        ex = HighThroughputExecutor(max_workers=3)
    assert ex.max_workers_per_node == 3 and ex.max_workers == 3
    assert "HighThroughputExecutor(" in repr(ex)


def test_launch_command_runs_this_environments_pool():
    import sys

    from parsl_executor_htex import HighThroughputExecutor

    ex = HighThroughputExecutor(max_workers_per_node=2)
    ex._ports = {"workers": 1234}
    cmd = ex._get_launch_command("7")
    # Parsl's default names process_worker_pool.py; blocks run it through this interpreter
    assert HighThroughputExecutor().launch_cmd.startswith("process_worker_pool.py ")
    assert cmd.startswith(sys.executable) and "-m parsl_executor_htex.process_worker_pool" in cmd
    assert "--block_id=7" in cmd and "--port=1234" in cmd and "--max_workers_per_node=2" in cmd
