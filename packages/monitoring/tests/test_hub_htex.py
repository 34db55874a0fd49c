"""MonitoringHub with the HighThroughputExecutor: resource samples from workers, nodes and
blocks, a tutorial-style pandas session, PostgreSQL, and a script without a main guard."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider

pytestmark = pytest.mark.slow


@python_app
def spin(seconds, megabytes):
    import time

    block = bytearray(megabytes * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return len(block)


@python_app
def add(a, b):
    return a + b


@bash_app
def shell(x):
    return f"echo {x}"


@bash_app
def busy_child():
    # Computes until it has used a second of CPU (not of wall time): a loaded machine makes it take
    # longer, never use less, so the samples' CPU time below does not depend on the load. The
    # clock is read between sums, not in a tight loop, whose system calls would be system time.
    spin = "while time.process_time() < 1.0: sum(range(100_000))"
    return f"python3 -c 'import time; x = bytearray(40_000_000); exec(\"{spin}\")'"


def htex_config(run_dir, **hub):
    return Config(
        executors=[
            HighThroughputExecutor(
                label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
            )
        ],
        monitoring=MonitoringHub(**hub),
        run_dir=str(run_dir),
    )


def test_resources_nodes_blocks_and_tutorial_queries(tmp_path):
    pd = pytest.importorskip("pandas")
    run_dir = tmp_path / "runinfo"
    with parsl.load(htex_config(run_dir, workflow_name="tutorial", resource_monitoring_interval=0.2)) as dfk:
        s = spin(1.0, 64)
        total = add(add(1, 2), add(3, 4))
        assert s.result(timeout=60) == 64 * 1024 * 1024
        assert total.result(timeout=60) == 10
        assert shell(5).result(timeout=60) == 0
        child = busy_child()
        assert child.result(timeout=60) == 0
        run_id = dfk.run_id
    # The monitoring cell of a Parsl tutorial, unchanged apart from the path.
    conn = sqlite3.connect(str(run_dir / "monitoring.db"))
    df_workflow = pd.read_sql_query("SELECT * FROM workflow", conn)
    df_task = pd.read_sql_query("SELECT * FROM task", conn)
    df_status = pd.read_sql_query("SELECT * FROM status", conn)
    df_resource = pd.read_sql_query("SELECT * FROM resource", conn)
    df_try = pd.read_sql_query("SELECT * FROM try", conn)
    df_node = pd.read_sql_query("SELECT * FROM node", conn)
    df_block = pd.read_sql_query("SELECT * FROM block", conn)
    conn.close()
    assert list(df_workflow["workflow_name"]) == ["tutorial"]
    assert df_workflow.loc[0, "tasks_completed_count"] == 6
    assert sorted(df_task["task_func_name"].value_counts().items()) == [
        ("add", 3),
        ("busy_child", 1),
        ("shell", 1),
        ("spin", 1),
    ]
    # a bash app's work happens in child processes: the samples count them
    kids = df_resource[df_resource.task_id == child.tid]
    during = kids[kids.psutil_process_children_count >= 1]
    assert len(during) >= 2
    assert during["psutil_process_time_user"].max() >= 0.5
    assert during["psutil_process_memory_resident"].max() > 40_000_000
    merged = pd.merge(df_task, df_status, on=["task_id", "run_id"])
    assert set(merged[merged.task_id == s.tid]["task_status_name"]) >= {
        "pending",
        "launched",
        "running",
        "running_ended",
        "exec_done",
    }
    assert (df_try["task_executor"] == "htex").all() and (df_try["block_id"] == "0").all()
    assert df_try["task_try_time_running"].notna().all()
    spin_samples = df_resource[df_resource.task_id == s.tid].sort_values("timestamp")
    assert len(spin_samples) >= 3  # every 0.2 s for a second of CPU, plus the final one
    last = spin_samples.iloc[-1]
    assert 0.7 <= last["psutil_process_time_user"] + last["psutil_process_time_system"] <= 3.0
    assert spin_samples["psutil_process_memory_resident"].max() > 64 * 1024 * 1024
    assert last["psutil_process_memory_percent"] > 0 and last["psutil_process_pid"] > 0
    assert (df_resource["run_id"] == run_id).all()
    # tasks that ran longer than the interval have their own samples; the short ones share their
    # worker process's (each process samples its first task, then once per interval)
    assert {s.tid, child.tid} <= set(df_resource["task_id"]) <= set(df_task["task_id"])
    assert len(df_node) >= 1 and df_node.loc[0, "worker_count"] == 2 and bool(df_node.loc[0, "active"])
    assert df_node.loc[0, "cpu_count"] >= 1 and df_node.loc[0, "total_memory"] > 0
    assert "PENDING" in set(df_block["status"]) and (df_block["executor_label"] == "htex").all()


def test_short_tasks_share_their_worker_process_samples(tmp_path):
    # Every worker process samples the first task it runs, then at most once per interval: 300
    # short tasks on 2 workers with a 60 s interval give one sample per worker that ran a task,
    # not one per task.
    run_dir = tmp_path / "runinfo"
    with parsl.load(htex_config(run_dir, resource_monitoring_interval=60)):
        assert [f.result(timeout=60) for f in [add(i, 1) for i in range(300)]] == list(range(1, 301))
    with sqlite3.connect(str(run_dir / "monitoring.db")) as c:
        samples = c.execute("select psutil_process_pid, task_id from resource").fetchall()
        running_ended = c.execute("select count(*) from status where task_status_name='running_ended'")
        assert running_ended.fetchone()[0] == 300
    pids = [pid for pid, _ in samples]
    assert 1 <= len(samples) <= 2 and len(set(pids)) == len(pids)


def test_resource_monitoring_can_be_turned_off(tmp_path):
    run_dir = tmp_path / "runinfo"
    with parsl.load(htex_config(run_dir, resource_monitoring_enabled=False)):
        assert add(1, 1).result(timeout=60) == 2
    with sqlite3.connect(str(run_dir / "monitoring.db")) as c:
        assert c.execute("select count(*) from resource").fetchone()[0] == 0
        assert c.execute(
            "select task_status_name from status where task_status_name='running_ended'"
        ).fetchall()


@pytest.mark.infra
def test_postgresql_url(tmp_path, postgres_url):
    import sqlalchemy as sa

    with parsl.load(
        htex_config(
            tmp_path / "runinfo",
            logging_endpoint=postgres_url,
            workflow_name="on postgres",
            resource_monitoring_interval=0.5,
        )
    ) as dfk:
        futures = [add(i, i) for i in range(200)]
        assert [f.result(timeout=60) for f in futures] == [2 * i for i in range(200)]
        run_id = dfk.run_id
    engine = sa.create_engine(postgres_url)
    with engine.connect() as c:
        q = lambda sql: c.execute(sa.text(sql), {"r": run_id}).scalar()  # noqa: E731
        assert q("select workflow_name from workflow where run_id=:r") == "on postgres"
        assert q("select count(*) from task where run_id=:r") == 200
        assert q("select count(*) from try where run_id=:r and task_try_time_running is not null") == 200
        assert q("select count(*) from status where run_id=:r and task_status_name='exec_done'") == 200
        assert q("select count(*) from resource where run_id=:r") >= 1  # per worker process, see above
        assert q("select count(*) from node where run_id=:r") >= 1
        assert q("select time_completed is not null from workflow where run_id=:r")
    engine.dispose()
    assert not (tmp_path / "runinfo" / "monitoring.db").exists()


def test_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text(
        textwrap.dedent("""
        import parsl
        from parsl import python_app
        from parsl.config import Config
        from parsl.executors import HighThroughputExecutor
        from parsl.monitoring import MonitoringHub
        from parsl.providers import LocalProvider

        @python_app
        def double(x):
            return 2 * x

        parsl.load(Config(
            executors=[HighThroughputExecutor(max_workers_per_node=2, provider=LocalProvider())],
            monitoring=MonitoringHub(hub_address="127.0.0.1", resource_monitoring_interval=1),
        ))
        print(sum(f.result() for f in [double(i) for i in range(20)]))
    """)
    )
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "380"
    with sqlite3.connect(str(tmp_path / "runinfo" / "monitoring.db")) as c:
        assert c.execute("select workflow_name from workflow").fetchone()[0] == "no_guard.py"
        assert c.execute("select count(*) from task").fetchone()[0] == 20
        assert c.execute("select time_completed from workflow").fetchone()[0] is not None
