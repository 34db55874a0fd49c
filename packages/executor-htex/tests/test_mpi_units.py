"""MPI mode pieces on their own: host lists, node discovery, resource specifications, launch
prefixes and the pool's node scheduler."""

from __future__ import annotations

import os

import pytest

from parsl.executors.errors import InvalidResourceSpecification
from parsl_executor_htex.mpi import (
    MPINodesUnavailable,
    MPITask,
    NodeScheduler,
    compose_prefixes,
    discover_nodes,
    expand_hostlist,
    validate_resource_spec,
)


@pytest.mark.parametrize(
    "hostlist, hosts",
    [
        ("vm", ["vm"]),
        ("n[1-3]", ["n1", "n2", "n3"]),
        ("gpu[01-02,07],login1", ["gpu01", "gpu02", "gpu07", "login1"]),
        ("nid[0098-0101]", ["nid0098", "nid0099", "nid0100", "nid0101"]),
        ("rack[1-2]-n[1-2]", ["rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"]),
        ("a1,b[3,5],c", ["a1", "b3", "b5", "c"]),
    ],
)
def test_expand_hostlist(hostlist, hosts):
    assert expand_hostlist(hostlist) == hosts


@pytest.mark.parametrize("bad", ["n[3-1]", "n[1-", "n[a-b]"])
def test_expand_hostlist_rejects_malformed(bad):
    with pytest.raises(ValueError):
        expand_hostlist(bad)


def test_discover_nodes(tmp_path):
    assert discover_nodes({"SLURM_NODELIST": "n[1-2],m7"}) == (["n1", "n2", "m7"], "SLURM_NODELIST")
    assert discover_nodes({"SLURM_JOB_NODELIST": "x[1-2]", "SLURM_NODELIST": "y"})[0] == ["x1", "x2"]
    nodefile = tmp_path / "nodes"
    nodefile.write_text("c1\nc1\nc2\nc2\n\nc3\n")  # PBS lists a node once per core
    assert discover_nodes({"PBS_NODEFILE": str(nodefile)}) == (["c1", "c2", "c3"], "PBS_NODEFILE")
    assert discover_nodes({}) == (["localhost"], "localhost")


def test_resource_spec_completed():
    assert validate_resource_spec({"num_nodes": 2, "ranks_per_node": 4}) == {
        "num_nodes": 2,
        "ranks_per_node": 4,
        "num_ranks": 8,
    }
    assert validate_resource_spec({"num_nodes": "2", "num_ranks": 5}) == {
        "num_nodes": 2,
        "ranks_per_node": 3,
        "num_ranks": 5,
    }
    assert validate_resource_spec({"num_ranks": 3}) == {"num_nodes": 1, "ranks_per_node": 3, "num_ranks": 3}
    assert (
        validate_resource_spec({"num_nodes": 1, "launcher_options": "--bind-to core"})["launcher_options"]
        == "--bind-to core"
    )


@pytest.mark.parametrize(
    "spec, keys",
    [
        ({}, set()),
        (None, set()),
        ({"num_nodes": 1, "priority": 3}, {"priority"}),
        ({"num_nodes": 1, "cores": 2}, {"cores"}),
        ({"num_nodes": 0}, {"num_nodes"}),
        ({"num_nodes": 1.5}, {"num_nodes"}),
        ({"num_nodes": "two"}, {"num_nodes"}),
        ({"num_nodes": 2, "ranks_per_node": 2, "num_ranks": 5}, {"num_ranks"}),
    ],
)
def test_resource_spec_rejected(spec, keys):
    with pytest.raises(InvalidResourceSpecification) as info:
        validate_resource_spec(spec)
    assert info.value.invalid_keys == keys


def test_htex_without_mpi_mode_rejects_mpi_keys():
    from parsl_executor_htex import HighThroughputExecutor

    htex = HighThroughputExecutor()
    with pytest.raises(InvalidResourceSpecification) as info:
        htex.submit(print, {"num_nodes": 2, "ranks_per_node": 2})
    assert info.value.invalid_keys == {"num_nodes", "ranks_per_node"}
    assert htex.tasks == {}


def test_mpi_mode_rejects_empty_spec_at_submit():
    from parsl_executor_htex import HighThroughputExecutor

    htex = HighThroughputExecutor(enable_mpi_mode=True, mpi_launcher="srun")
    with pytest.raises(InvalidResourceSpecification, match="num_nodes"):
        htex.submit(print, {})
    with pytest.raises(ValueError, match="mpirun"):
        HighThroughputExecutor(enable_mpi_mode=True, mpi_launcher="mpirun")


def test_prefixes():
    spec = {"num_nodes": 2, "ranks_per_node": 3, "num_ranks": 6, "launcher_options": "--cpu-bind=cores"}
    p = compose_prefixes("srun", spec, ["n1", "n2"])
    assert (
        p["PARSL_SRUN_PREFIX"]
        == "srun --ntasks 6 --ntasks-per-node 3 --nodelist n1,n2 --nodes 2 --cpu-bind=cores"
    )
    assert p["PARSL_MPI_PREFIX"] == p["PARSL_SRUN_PREFIX"]
    assert p["PARSL_MPIEXEC_PREFIX"] == "mpiexec -n 6 -ppn 3 -hosts n1,n2 --cpu-bind=cores"
    assert p["PARSL_APRUN_PREFIX"] == "aprun -n 6 -N 3 -node-list n1,n2 --cpu-bind=cores"
    o = compose_prefixes(
        "mpiexec", {"num_nodes": 2, "ranks_per_node": 2, "num_ranks": 4}, ["n1", "n2"], "openmpi"
    )
    assert o["PARSL_MPI_PREFIX"] == "mpiexec -n 4 --map-by ppr:2:node --host n1:2,n2:2"
    assert compose_prefixes("aprun", spec, ["n1"])["PARSL_MPI_PREFIX"].startswith("aprun -n 6 -N 3")


def test_node_scheduler_lends_each_node_to_one_task(tmp_path):
    sched = NodeScheduler("srun", nodes=["n1", "n2", "n3"], workdir=str(tmp_path))
    env1 = sched.place(1, {"num_nodes": 2, "ranks_per_node": 1, "num_ranks": 2})
    assert env1["PARSL_MPI_NODELIST"] == "n1,n2" and env1["PARSL_NUM_NODES"] == "2"
    with open(env1["PARSL_NODEFILE"]) as f:
        assert f.read() == "n1\nn2\n"
    assert sched.place(2, {"num_nodes": 2, "ranks_per_node": 1, "num_ranks": 2}) is None  # only n3 free
    env3 = sched.place(3, {"num_nodes": 1, "ranks_per_node": 4, "num_ranks": 4})
    assert env3["PARSL_MPI_NODELIST"] == "n3" and env3["PARSL_RANKS_PER_NODE"] == "4"
    assert env3["PARSL_MPI_PREFIX"] == "srun --ntasks 4 --ntasks-per-node 4 --nodelist n3 --nodes 1"
    sched.release(1)
    assert not os.path.exists(env1["PARSL_NODEFILE"])
    env2 = sched.place(2, {"num_nodes": 2, "ranks_per_node": 1, "num_ranks": 2})
    assert set(env2["PARSL_MPI_NODELIST"].split(",")) == {"n1", "n2"}
    with pytest.raises(MPINodesUnavailable, match="num_nodes=4 but its block has 3 node"):
        sched.place(4, {"num_nodes": 4, "ranks_per_node": 1, "num_ranks": 4})


def test_mpi_task_pickles_with_its_environment():
    import pickle

    t = pickle.loads(pickle.dumps(MPITask({"num_nodes": 1}, b"payload", {"PARSL_NUM_NODES": "1"})))
    assert (t.spec, t.payload, t.env) == ({"num_nodes": 1}, b"payload", {"PARSL_NUM_NODES": "1"})


def test_mpi_executor_import_and_launcher_check():
    from parsl.executors import MPIExecutor
    from parsl.launchers import SimpleLauncher, SingleNodeLauncher
    from parsl.providers import LocalProvider
    from parsl_executor_htex.mpi_executor import MPIExecutor as Ours

    assert MPIExecutor is Ours
    ex = MPIExecutor(provider=LocalProvider(launcher=SimpleLauncher()), max_workers_per_block=3)
    assert (
        ex.enable_mpi_mode and ex.max_workers_per_node == 3 and not ex.encrypted and ex.label == "MPIExecutor"
    )
    assert not ex.monitor_resources()
    with pytest.raises(TypeError, match="SimpleLauncher"):
        MPIExecutor(provider=LocalProvider(launcher=SingleNodeLauncher()))
    with pytest.raises(ValueError, match="mpi_launcher"):
        MPIExecutor(provider=LocalProvider(launcher=SimpleLauncher()), mpi_launcher="jsrun")


#: Parsl 2026.10.26's MPIExecutor parameters, in order (positional calls depend on it)
PARSL_MPI_PARAMETERS = [
    "label", "provider", "launch_cmd", "interchange_launch_cmd", "address", "loopback_address",
    "worker_port", "worker_port_range", "interchange_port_range", "storage_access", "working_dir",
    "worker_debug", "max_workers_per_block", "prefetch_capacity", "heartbeat_threshold",
    "heartbeat_period", "drain_period", "poll_period", "address_probe_timeout",
    "worker_logdir_root", "mpi_launcher", "block_error_handler", "encrypted",
    "remote_monitoring_radio",
]  # fmt: skip


def test_mpi_executor_signature_is_parsls_taken_from_htex():
    import inspect

    from parsl.launchers import SimpleLauncher
    from parsl.providers import LocalProvider
    from parsl_executor_htex import HighThroughputExecutor, MPIExecutor

    sig = inspect.signature(MPIExecutor)
    # Parsl's, in its order, then parslcore's own keyword parameters (interchange recovery)
    assert list(sig.parameters) == [
        *PARSL_MPI_PARAMETERS,
        "interchange_restarts",
        "interchange_restart_window",
    ]
    assert sig.parameters["label"].default == "MPIExecutor" and sig.parameters["encrypted"].default is False
    htex = inspect.signature(HighThroughputExecutor).parameters
    for name in ("heartbeat_period", "worker_port_range", "block_error_handler"):
        assert sig.parameters[name] == htex[name]  # the same parameter, annotation and default
    # positional arguments land where Parsl puts them
    ex = MPIExecutor("mpi_pos", LocalProvider(launcher=SimpleLauncher()), heartbeat_period=7)
    assert ex.label == "mpi_pos" and ex.heartbeat_period == 7 and ex.max_workers_per_block == 1
    assert "    max_workers_per_block=1," in repr(ex) and "    cores_per_worker=" not in repr(ex)


def test_mpi_executor_names_the_fix_for_a_parameter_it_does_not_take():
    from parsl.launchers import SimpleLauncher
    from parsl.providers import LocalProvider
    from parsl_executor_htex import MPIExecutor

    provider = LocalProvider(launcher=SimpleLauncher())
    with pytest.raises(
        TypeError, match=r"does not take cores_per_worker.*max_workers_per_block.*enable_mpi_mode"
    ):
        MPIExecutor(provider=provider, cores_per_worker=2)
    with pytest.raises(TypeError, match=r"MPIExecutor: .*'max_worker_per_block'"):
        MPIExecutor(provider=provider, max_worker_per_block=2)  # a misspelling
    with pytest.raises(TypeError, match=r"MPIExecutor: .*multiple values for argument 'label'"):
        MPIExecutor("a", label="b")
