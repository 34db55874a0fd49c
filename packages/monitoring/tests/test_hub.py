"""MonitoringHub with real workflows on thread executors: the rows Parsl users query."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
import warnings

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl.monitoring.monitoring import MonitoringHub as OldPathHub


@python_app
def inc(x):
    return x + 1


@python_app
def boom(x):
    raise ValueError(f"bad {x}")


@bash_app
def echo(msg, stdout=None):
    return f"echo {msg}"


def rows(db, sql, *args):
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute(sql, args)]


def test_import_paths_are_the_same_class():
    assert MonitoringHub is OldPathHub
    from parsl_monitoring import MonitoringHub as Direct

    assert Direct is MonitoringHub


def test_workflow_task_try_status_rows(tmp_path):
    run_dir = tmp_path / "runinfo"
    hub = MonitoringHub(workflow_name="wf <b>1</b>", workflow_version="v2")
    cfg = Config(
        executors=[ThreadPoolExecutor(label="threads")], monitoring=hub, retries=1, run_dir=str(run_dir)
    )
    with parsl.load(cfg) as dfk:
        a = inc(1)
        b = inc(a)
        c = boom(b)
        d = inc(c)
        e = echo("hi", stdout=str(tmp_path / "echo.out"))
        assert b.result() == 3 and e.result() == 0
        with pytest.raises(ValueError):
            c.result()
        with pytest.raises(Exception):
            d.result()
        run_id = dfk.run_id
    db = str(run_dir / "monitoring.db")
    [wf] = rows(db, "select * from workflow")
    assert wf["run_id"] == run_id and wf["workflow_name"] == "wf <b>1</b>" and wf["workflow_version"] == "v2"
    assert wf["time_completed"] is not None and wf["rundir"].startswith(str(run_dir))
    assert wf["tasks_completed_count"] == 3 and wf["tasks_failed_count"] == 1  # dep_fail not counted
    tasks = {r["task_id"]: r for r in rows(db, "select * from task where run_id=?", run_id)}
    assert set(tasks) == {a.tid, b.tid, c.tid, d.tid, e.tid}
    assert tasks[b.tid]["task_depends"] == str(a.tid) and tasks[a.tid]["task_depends"] == ""
    assert tasks[d.tid]["task_depends"] == str(c.tid)
    assert tasks[c.tid]["task_func_name"] == "boom" and tasks[c.tid]["task_fail_count"] == 2
    assert tasks[e.tid]["task_stdout"] == str(tmp_path / "echo.out")
    assert all(t["task_time_returned"] is not None for t in tasks.values())
    tries = rows(db, "select * from try where run_id=? order by task_id, try_id", run_id)
    assert [(t["task_id"], t["try_id"]) for t in tries if t["task_id"] == c.tid] == [(c.tid, 0), (c.tid, 1)]
    assert not [t for t in tries if t["task_id"] == d.tid]  # dependency failed: never launched
    for t in tries:
        assert t["task_executor"] == "threads" and t["hostname"]
        assert t["task_try_time_launched"] and t["task_try_time_running"] and t["task_try_time_returned"]
    states = [
        r["task_status_name"]
        for r in rows(
            db, "select * from status where run_id=? and task_id=? order by timestamp", run_id, a.tid
        )
    ]
    assert states[0] == "pending" and states[-1] == "exec_done"
    assert {"launched", "running", "running_ended"} <= set(states)
    c_states = [
        (r["task_status_name"], r["try_id"])
        for r in rows(db, "select * from status where task_id=? order by timestamp", c.tid)
    ]
    assert ("fail_retryable", 0) in c_states and c_states[-1] == ("failed", 1)
    assert [
        r["task_status_name"]
        for r in rows(db, "select * from status where task_id=? order by timestamp", d.tid)
    ] == ["pending", "dep_fail"]


def test_many_tasks_lose_no_row_while_a_reader_polls(tmp_path):
    """Thousands of tasks per second: every status row lands and a concurrent reader (as
    parsl-visualize is) never makes the writer hit 'database is locked'."""
    run_dir = tmp_path / "runinfo"
    db = run_dir / "monitoring.db"
    n = 5000
    stop = threading.Event()
    reads = []

    def reader():
        while not stop.is_set():
            if db.exists():
                try:
                    with sqlite3.connect(str(db), timeout=30) as c:
                        reads.append(c.execute("select count(*) from status").fetchone()[0])
                except sqlite3.OperationalError as e:  # tables not created yet
                    assert "no such table" in str(e)
            time.sleep(0.01)

    t = threading.Thread(target=reader)
    t.start()
    try:
        cfg = Config(
            executors=[ThreadPoolExecutor(max_threads=4)], monitoring=MonitoringHub(), run_dir=str(run_dir)
        )
        with parsl.load(cfg) as dfk:
            futures = [inc(i) for i in range(n)]
            assert sum(f.result() for f in futures) == sum(range(1, n + 1))
            run_id = dfk.run_id
    finally:
        stop.set()
        t.join()
    assert reads, "the reader never saw the database"
    [[count]] = [
        list(r.values()) for r in rows(str(db), "select count(*) from status where run_id=?", run_id)
    ]
    assert count == 5 * n  # pending, launched, running, running_ended, exec_done
    [[tasks]] = [list(r.values()) for r in rows(str(db), "select count(*) from task where run_id=?", run_id)]
    [[tries]] = [list(r.values()) for r in rows(str(db), "select count(*) from try where run_id=?", run_id)]
    assert tasks == tries == n


def test_runs_share_one_database_and_hubs_do_not_cross(tmp_path):
    run_dir = tmp_path / "runinfo"
    hub1 = MonitoringHub(workflow_name="first")
    with parsl.load(Config(executors=[ThreadPoolExecutor()], monitoring=hub1, run_dir=str(run_dir))) as d1:
        assert inc(1).result() == 2
    # a second DataFlowKernel without monitoring must not report into the first one's database
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(run_dir))):
        assert inc(2).result() == 3
    hub2 = MonitoringHub(workflow_name="second")
    with parsl.load(Config(executors=[ThreadPoolExecutor()], monitoring=hub2, run_dir=str(run_dir))) as d2:
        assert inc(3).result() == 4
    db = str(run_dir / "monitoring.db")
    names = {r["run_id"]: r["workflow_name"] for r in rows(db, "select * from workflow")}
    assert names == {d1.run_id: "first", d2.run_id: "second"}
    assert len(rows(db, "select * from task")) == 2


def test_logging_endpoint_url(tmp_path):
    url = f"sqlite:///{tmp_path}/elsewhere/mon.db"
    with parsl.load(
        Config(
            executors=[ThreadPoolExecutor()],
            monitoring=MonitoringHub(logging_endpoint=url),
            run_dir=str(tmp_path / "runinfo"),
        )
    ):
        assert inc(1).result() == 2
    assert len(rows(str(tmp_path / "elsewhere" / "mon.db"), "select * from task")) == 1
    assert not (tmp_path / "runinfo" / "monitoring.db").exists()


def test_old_arguments_warn_and_unknown_ones_fail():
    with pytest.warns(DeprecationWarning, match="hub_address, hub_port"):
        hub = MonitoringHub(
            hub_address="127.0.0.1", hub_port=55055, monitoring_debug=False, resource_monitoring_interval=10
        )
    assert hub.resource_monitoring_interval == 10
    with pytest.warns(DeprecationWarning, match="logging_level"):
        MonitoringHub(logging_level=logging.INFO)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MonitoringHub(workflow_name="x", resource_monitoring_enabled=False)
    with pytest.raises(TypeError, match="hub_prot"):
        MonitoringHub(hub_prot=1)
    with pytest.raises(ValueError, match="not a database URL"):
        MonitoringHub(logging_endpoint="monitoring.db")
    with pytest.raises(ValueError, match="positive"):
        MonitoringHub(resource_monitoring_interval=-1)
    assert (
        MonitoringHub(resource_monitoring_interval=0).resource_monitoring_interval == 0
    )  # Parsl: no samples


def test_a_database_that_cannot_be_opened_is_reported_before_the_first_task(tmp_path, caplog):
    hub = MonitoringHub(logging_endpoint="postgresql://nobody:x@127.0.0.1:1/none")
    with (
        caplog.at_level(logging.ERROR, logger="parsl.monitoring"),
        parsl.load(
            Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(tmp_path / "runinfo"))
        ),
    ):
        # the writer process told its failure while the kernel started: nothing was submitted
        assert "could not open its database" in caplog.text
        assert inc(1).result() == 2


def test_an_unreachable_database_is_logged_and_the_workflow_still_runs(tmp_path, caplog):
    hub = MonitoringHub(logging_endpoint="postgresql://nobody:x@127.0.0.1:1/none")
    with caplog.at_level(logging.ERROR, logger="parsl.monitoring"):
        start = time.monotonic()
        with parsl.load(
            Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(tmp_path / "runinfo"))
        ):
            assert [inc(i).result() for i in range(10)] == list(range(1, 11))
        assert time.monotonic() - start < 30
    assert "could not open its database" in caplog.text


def _wait_for_rows(db, timeout: float = 60.0) -> None:
    """Until the writer process has written status rows to ``db`` (it starts in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with contextlib.closing(sqlite3.connect(str(db))) as c:
                if c.execute("select count(*) from status").fetchone()[0]:
                    return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    pytest.fail(f"no status rows in {db} after {timeout}s")


def test_a_database_that_breaks_mid_run_never_fails_tasks(tmp_path, caplog):
    run_dir = tmp_path / "runinfo"
    hub = MonitoringHub()
    config = Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(run_dir))
    with caplog.at_level(logging.WARNING, logger="parsl.monitoring"), parsl.load(config):
        assert inc(1).result() == 2
        _wait_for_rows(run_dir / "monitoring.db")  # the first batch is written
        with sqlite3.connect(str(run_dir / "monitoring.db")) as c:
            c.execute("drop table status")
        assert [inc(i).result() for i in range(20)] == list(range(1, 21))
    # the rows were kept, not dropped: left in the spill file the warning names
    assert "Monitoring cannot write to its database" in caplog.text
    (spill,) = run_dir.glob("*/monitoring-spill-*.pkl")
    assert f"parsl-monitoring-replay {spill}" in caplog.text
