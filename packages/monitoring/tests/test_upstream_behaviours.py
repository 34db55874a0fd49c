"""What Parsl's own monitoring tests check, on thread executors: ``dfk.monitoring``, how
stdout/stderr specs are recorded, the run directory's ``database_manager.log``, an interval of
0, and a writer that survives bad events and a second close."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.dataflow.states import States
from parsl.executors import ThreadPoolExecutor
from parsl.logconfigs.json import JSONLogging
from parsl.logconfigs.noop import NoopLogging
from parsl.monitoring import MonitoringHub
from parsl.monitoring.radios.multiprocessing import MultiprocessingQueueRadio
from parsl_monitoring.writer import DatabaseWriter


@python_app
def stdapp(stdout=None, stderr=None):
    return 1


class PathLike(os.PathLike):
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


def rows(db, sql):
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchall()


def config(tmp_path, **kw):
    hub = kw.pop("hub", None) or MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db")
    return Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(tmp_path / "runinfo"), **kw)


def test_dfk_monitoring_is_the_configured_hub(tmp_path):
    cfg = config(tmp_path)
    with parsl.load(cfg) as dfk:
        assert dfk.monitoring is cfg.monitoring
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path / "runinfo"))) as dfk:
        assert dfk.monitoring is None


@pytest.mark.parametrize(
    "spec,expected",
    [
        (None, ""),
        ("hello.txt", "hello.txt"),
        (("tuple.txt", "w"), "tuple.txt"),
        (PathLike("pl.txt"), "pl.txt"),
        (PathLike(b"pl2.txt"), "pl2.txt"),
        ((PathLike(b"pl4.txt"), "w"), "pl4.txt"),
        (File("file:///tmp/parsl-h9-pl5"), "file:///tmp/parsl-h9-pl5"),
    ],
)
def test_std_streams_are_recorded_as_parsl_names_them(tmp_path, spec, expected, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative stream files land here (and the next test is back where it was)
    with parsl.load(config(tmp_path)):
        assert stdapp(stdout=spec, stderr=spec).result() == 1
    [(out, err)] = rows(f"{tmp_path}/monitoring.db", "select task_stdout, task_stderr from task")
    assert out == expected and err == expected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_interval_zero_records_tasks_without_resource_samples(tmp_path):
    hub = MonitoringHub(
        logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db", resource_monitoring_interval=0
    )
    with parsl.load(config(tmp_path, hub=hub)):
        assert stdapp().result() == 1
    db = f"{tmp_path}/monitoring.db"
    assert rows(db, "select count(*) from task") == [(1,)]
    assert rows(db, "select count(*) from resource") == [(0,)]


def test_thread_pool_default_radio_is_parsls():
    assert isinstance(ThreadPoolExecutor().remote_monitoring_radio, MultiprocessingQueueRadio)


def test_database_manager_log_in_the_run_directory(tmp_path):
    with parsl.load(config(tmp_path)) as dfk:
        log = os.path.join(dfk.run_dir, "database_manager.log")
        assert os.path.exists(log)  # while the workflow runs, as with Parsl's database manager
        stdapp().result()
    with open(log) as f:
        text = f.read()
    assert "Monitoring workflow" in text and "[INFO]" in text
    # the handler left with the kernel: later monitoring records do not reach the file
    logging.getLogger("parsl.monitoring").info("after cleanup")
    with open(log) as f:
        assert "after cleanup" not in f.read()


def test_database_manager_log_follows_the_log_configuration(tmp_path):
    with parsl.load(config(tmp_path / "json", initialize_logging=JSONLogging())) as dfk:
        stdapp().result()
        run_dir = dfk.run_dir
    assert not os.path.exists(os.path.join(run_dir, "database_manager.log"))
    with open(os.path.join(run_dir, "database_manager.jsonlog")) as f:
        records = [json.loads(line) for line in f]
    assert any(r["name"] == "parsl.monitoring" for r in records)
    with parsl.load(config(tmp_path / "noop", initialize_logging=NoopLogging())) as dfk:
        run_dir = dfk.run_dir
    assert not [n for n in os.listdir(run_dir) if n.startswith("database_manager")]


class _BrokenTask:
    """A task record whose attributes raise: stands for a bug turning an event into a row."""

    id = 7
    try_id = 0
    depends = ()
    executor = "threads"
    fail_history = ()
    joins = None

    def __getattr__(self, name):
        raise RuntimeError(f"cannot read {name}")


def test_writer_survives_an_event_it_cannot_turn_into_rows_and_closes_twice(tmp_path, caplog):
    db = tmp_path / "w.db"
    writer = DatabaseWriter(f"sqlite:///{db}", "run-1")
    writer.start()
    writer.task_changed(_BrokenTask(), States.pending, time.time())
    writer.close(30)
    assert writer.batches_failed == 1
    assert "could not turn queued events into rows" in caplog.text
    writer.join(30)
    assert not writer.is_alive()  # threading's own _stop is not shadowed
    assert writer.close(1) is True


def test_htex_default_radio_is_parsls():
    htex = pytest.importorskip("parsl_executor_htex")
    from parsl.monitoring.radios.htex import HTEXRadio
    from parsl.monitoring.radios.udp import UDPRadio

    assert isinstance(htex.HighThroughputExecutor().remote_monitoring_radio, HTEXRadio)
    udp = UDPRadio(address="127.0.0.1")
    assert htex.HighThroughputExecutor(remote_monitoring_radio=udp).remote_monitoring_radio is udp
