"""Starting an executor logs a record carrying its label and dotted type, as Parsl's kernel does
(software built on Parsl reads them, e.g. to list which executors a workflow started)."""

from __future__ import annotations

import logging

import parsl
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


def _started(caplog):
    return {
        (r.__dict__["parsl.executor.label"], r.__dict__["parsl.executor.type"])
        for r in caplog.records
        if "parsl.executor.label" in r.__dict__
    }


def test_start_and_add_executors_log_label_and_type(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="parsl")
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="first")], run_dir=str(tmp_path))) as dfk:
        assert ("first", "parsl.executors.threads.ThreadPoolExecutor") in _started(caplog)
        dfk.add_executors([ThreadPoolExecutor(label="second")])
        assert ("second", "parsl.executors.threads.ThreadPoolExecutor") in _started(caplog)


def test_a_plugin_class_names_its_public_path():
    from parsl.dataflow.dflow import _type_name
    from parsl_executor_htex import HighThroughputExecutor, MPIExecutor

    assert (
        _type_name(HighThroughputExecutor())
        == "parsl.executors.high_throughput.executor.HighThroughputExecutor"
    )
    from parsl.launchers import SimpleLauncher
    from parsl.providers import LocalProvider

    mpi = MPIExecutor(provider=LocalProvider(launcher=SimpleLauncher()))
    assert _type_name(mpi) == "parsl.executors.high_throughput.mpi_executor.MPIExecutor"

    class Mine(HighThroughputExecutor):  # a subclass is itself, not the class it extends
        pass

    assert _type_name(Mine()).endswith(".Mine")
