"""Blocks on our HTEX as Parsl reports them: ``HOLD_MANAGER`` through ``command_client``,
``connected_blocks()`` as the history of every block that ever connected, and blocks whose
workers never connected reported MISSING, with the exit code in Parsl's words."""

from __future__ import annotations

import time

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.errors import BadStateException
from parsl.jobs.states import JobState
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor


@python_app
def block_of_worker():
    import os

    return os.environ["PARSL_WORKER_BLOCK_ID"]


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_hold_manager_stops_sending_it_tasks(tmp_path):
    cfg = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                max_workers_per_node=1,
                heartbeat_period=1,
                heartbeat_threshold=5,
                provider=LocalProvider(init_blocks=2, max_blocks=2),
            )
        ],
        run_dir=str(tmp_path),
        strategy="none",
    )
    with parsl.load(cfg) as dfk:
        htex = dfk.executors["htex"]
        wait_for(lambda: len(htex.connected_managers()) == 2)
        held = next(d for d in htex.connected_managers() if d["block_id"] == "0")
        assert htex.command_client.run(["HOLD_MANAGER", held["manager"]]) is None
        wait_for(
            lambda: (
                not next(d for d in htex.connected_managers() if d["manager"] == held["manager"])["active"]
            )
        )
        assert {block_of_worker().result(timeout=60) for _ in range(6)} == {"1"}


def test_connected_blocks_keeps_blocks_that_left(tmp_path):
    cfg = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                max_workers_per_node=1,
                heartbeat_period=1,
                heartbeat_threshold=2,
                provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=2),
            )
        ],
        run_dir=str(tmp_path),
        strategy="none",
    )
    with parsl.load(cfg) as dfk:
        htex = dfk.executors["htex"]
        assert block_of_worker().result(timeout=60) == "0"
        assert htex.scale_in(1) == ["0"]
        assert htex.connected_blocks() == ["0"]
        htex.scale_out_facade(1)
        assert block_of_worker().result(timeout=60) == "1"
        assert htex.connected_blocks() == ["0", "1"]
        assert htex.status_facade["0"].state == JobState.SCALED_IN  # not MISSING: it connected


def test_blocks_that_never_connect_are_missing(tmp_path):
    cfg = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                max_workers_per_node=1,
                heartbeat_period=1,
                heartbeat_threshold=2,
                provider=LocalProvider(worker_init="exit 0", init_blocks=2, max_blocks=2),
            )
        ],
        run_dir=str(tmp_path),
        strategy="none",
        strategy_period=0.2,
    )
    with parsl.load(cfg) as dfk:
        htex = dfk.executors["htex"]
        fut = block_of_worker()
        with pytest.raises(BadStateException) as info:
            fut.result(timeout=60)
        assert "EXIT CODE: 0" in str(info.value)
        assert htex._executor_bad_state.is_set()
        states = htex.status()
        assert sorted(states) == ["0", "1"] and {s.state for s in states.values()} == {JobState.MISSING}
        assert all("registering" in s.message for s in states.values())
        assert htex.connected_blocks() == []


@python_app
def exit_worker(code):
    import sys

    sys.exit(code)


def test_sys_exit_in_a_task_loses_the_worker_which_is_replaced(tmp_path):
    from parsl_executor_htex import WorkerLost

    cfg = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                max_workers_per_node=1,
                heartbeat_period=1,
                heartbeat_threshold=5,
                provider=LocalProvider(init_blocks=1, max_blocks=1),
            )
        ],
        run_dir=str(tmp_path),
        strategy="none",
    )
    with parsl.load(cfg):
        for code in (2, 0):
            with pytest.raises(WorkerLost):
                exit_worker(code).result(timeout=60)
        assert block_of_worker().result(timeout=60) == "0"  # a new worker took the slot


def test_worker_port_fixes_the_port_pools_connect_to(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                max_workers_per_node=1,
                worker_port=port,
                address="127.0.0.1",
                provider=LocalProvider(init_blocks=1, max_blocks=1),
            )
        ],
        run_dir=str(tmp_path),
        strategy="none",
    )
    with parsl.load(cfg) as dfk:
        htex = dfk.executors["htex"]
        assert htex.worker_port == port == htex.command_client.run("WORKER_BINDS")
        assert block_of_worker().result(timeout=60) == "0"


def test_mpi_executor_takes_htex_parameters_but_the_per_worker_ones():
    from inspect import signature

    from parsl.launchers import SimpleLauncher
    from parsl_executor_htex import MPIExecutor

    htex = set(signature(HighThroughputExecutor.__init__).parameters)
    mpi = set(signature(MPIExecutor.__init__).parameters)
    assert mpi - htex == {"max_workers_per_block"}
    assert not mpi & {"cores_per_worker", "mem_per_worker", "max_workers_per_node", "available_accelerators"}
    assert "label" in MPIExecutor.__doc__ and "max_workers_per_block" in MPIExecutor.__doc__
    ex = MPIExecutor(provider=LocalProvider(launcher=SimpleLauncher()), worker_port=9123)
    assert ex.worker_ports == (9123, 9123)
    with pytest.raises(TypeError):
        MPIExecutor(provider=LocalProvider(launcher=SimpleLauncher()), cores_per_worker=2)
