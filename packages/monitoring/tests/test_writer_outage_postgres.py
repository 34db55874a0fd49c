"""The monitoring writer loses no row while the real PostgreSQL server is down.

The server started by ``.ci/setup.d/35-postgres.sh`` is stopped mid-run with ``pg_ctlcluster``
(fast shutdown: every connection is closed, as in a restart) and started again, while a
workflow keeps running tasks. Each test writes to a fresh database of its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub

pytestmark = [
    pytest.mark.infra,
    pytest.mark.skipif(
        shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
        reason="stops and starts the local PostgreSQL cluster (root, pg_ctlcluster)",
    ),
]


@python_app
def inc(x):
    return x + 1


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
    subprocess.run(["pg_ctlcluster", version, "main", action], check=True, capture_output=True, timeout=120)


def _reachable(url: str) -> bool:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as c:
            c.execute(sa.text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def server_down(url: str):
    """The PostgreSQL server is stopped inside the block (and surely started again after it)."""
    _cluster("stop")
    try:
        assert not _reachable(url)
        yield
    finally:
        _cluster("start")
        wait_for(lambda: _reachable(url), "PostgreSQL to accept connections again")


@pytest.fixture
def fresh_postgres(postgres_url):
    """A new, empty database next to the shared one, dropped afterwards."""
    name = f"parsl_outage_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    wait_for(lambda: _reachable(postgres_url), "PostgreSQL before dropping the test database")
    admin.dispose()
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def count(url: str, sql: str, **params) -> int:
    """The query's count; 0 while the writer process has not made the table yet."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(sa.text(sql), params).scalar()
    except sa.exc.ProgrammingError as e:
        if "does not exist" not in str(e):
            raise
        return 0
    finally:
        engine.dispose()


def test_postgres_restarted_mid_run_loses_no_task_row(fresh_postgres, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="parsl.monitoring")
    hub = MonitoringHub(logging_endpoint=fresh_postgres)
    config = Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(tmp_path / "runinfo"))
    with parsl.load(config) as dfk:
        run_id = dfk.run_id
        assert [f.result() for f in [inc(i) for i in range(50)]] == list(range(1, 51))
        q = "select count(*) from task where run_id = :r"
        wait_for(lambda: count(fresh_postgres, q, r=run_id) == 50, "the first rows")
        w = hub._writer
        with server_down(fresh_postgres):
            assert [f.result() for f in [inc(i) for i in range(50, 150)]] == list(range(51, 151))
            wait_for(lambda: w.stats.get("backlog_rows", 0) > 0, "the writer to hold rows back")
        assert [f.result() for f in [inc(i) for i in range(150, 200)]] == list(range(151, 201))
        wait_for(lambda: w.stats.get("backlog_rows") == 0, "the held-back rows to be written")
    for sql in (
        "select count(*) from task where run_id = :r and task_time_returned is not null",
        "select count(*) from try where run_id = :r and task_try_time_returned is not null",
        "select count(*) from status where run_id = :r and task_status_name = 'exec_done'",
    ):
        assert count(fresh_postgres, sql, r=run_id) == 200, sql
    assert count(fresh_postgres, "select count(*) from workflow where time_completed is not null") == 1
    assert not list(Path(tmp_path).glob("runinfo/*/monitoring-spill-*"))
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("parsl.monitoring")]
    assert len([m for m in messages if "cannot write to its database" in m]) == 1
    assert len([m for m in messages if "can be written again" in m]) == 1


def test_postgres_down_at_the_end_leaves_rows_the_command_loads(fresh_postgres, tmp_path, caplog):
    hub = MonitoringHub(logging_endpoint=fresh_postgres)
    config = Config(executors=[ThreadPoolExecutor()], monitoring=hub, run_dir=str(tmp_path / "runinfo"))
    try:
        with parsl.load(config) as dfk:
            run_id = dfk.run_id
            assert inc(0).result() == 1
            q = "select count(*) from task where run_id = :r"
            wait_for(lambda: count(fresh_postgres, q, r=run_id) == 1, "the first rows")
            _cluster("stop")
            assert not _reachable(fresh_postgres)
            assert [f.result() for f in [inc(i) for i in range(1, 100)]] == list(range(2, 101))
        (spill,) = Path(tmp_path).glob("runinfo/*/monitoring-spill-*.pkl")
        assert f"parsl-monitoring-replay {spill}" in caplog.text
        replay = [sys.executable, "-m", "parsl_monitoring.replay", str(spill), "--url", fresh_postgres]
        down = subprocess.run(replay, capture_output=True, text=True, timeout=120)
        assert down.returncode == 1 and spill.exists()
    finally:
        _cluster("start")
        wait_for(lambda: _reachable(fresh_postgres), "PostgreSQL to accept connections again")
    # the file names the database without its password: the command asks for the URL
    result = subprocess.run(replay[:-2], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--url" in result.stderr
    result = subprocess.run(replay, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not spill.exists()
    for sql in (
        "select count(*) from task where run_id = :r and task_time_returned is not null",
        "select count(*) from try where run_id = :r and task_try_time_returned is not null",
        "select count(*) from status where run_id = :r and task_status_name = 'exec_done'",
    ):
        assert count(fresh_postgres, sql, r=run_id) == 100, sql
    assert (
        count(fresh_postgres, "select tasks_completed_count from workflow where run_id = :r", r=run_id) == 100
    )
