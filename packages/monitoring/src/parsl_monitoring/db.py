"""The monitoring database schema: Parsl's tables and column names, in SQLAlchemy Core.

Seven tables, compatible with the databases Parsl writes, so existing notebooks, pandas queries
and ``parsl-visualize`` work on either:

- ``workflow``: one row per run (``run_id``), with name, version, times, host, user, run dir and
  the completed/failed task counts.
- ``task``: one row per task (``task_id``, ``run_id``): app name, dependencies as comma-separated
  task ids, memoization, inputs/outputs, stdout/stderr, invocation and return times, failures.
- ``try``: one row per attempt (``try_id`` counts from 0): executor, block, host and the times it
  was launched, started running and returned.
- ``status``: one row per state change of a task, including ``running`` and ``running_ended``
  reported from the worker.
- ``resource``: periodic psutil samples of a task's process (and its children); a column per
  field of the sample message (:data:`parsl_monitoring.remote.RESOURCE_FIELDS`).
- ``node``: one row per worker-pool (manager) registration or status change.
- ``block``: one row per status change of a block of workers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.engine import URL, make_url

from parsl_monitoring.remote import RESOURCE_FIELDS

__all__ = [
    "BLOCK",
    "NODE",
    "RESOURCE",
    "STATUS",
    "TABLES",
    "TASK",
    "TRY",
    "WORKFLOW",
    "metadata",
    "with_installed_driver",
]

metadata = MetaData()

WORKFLOW = Table(
    "workflow",
    metadata,
    Column("run_id", Text, nullable=False, primary_key=True),
    Column("workflow_name", Text, nullable=True),
    Column("workflow_version", Text, nullable=True),
    Column("time_began", DateTime, nullable=False),
    Column("time_completed", DateTime, nullable=True),
    Column("host", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("rundir", Text, nullable=False),
    Column("tasks_failed_count", Integer, nullable=False),
    Column("tasks_completed_count", Integer, nullable=False),
)

STATUS = Table(
    "status",
    metadata,
    Column("task_id", Integer, nullable=False),
    Column("task_status_name", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("run_id", Text, ForeignKey("workflow.run_id"), nullable=False),
    Column("try_id", Integer, nullable=False),
    # Parsl's key, its columns in another order: run first, so the key's index is also the
    # one every dashboard query (one run's rows) uses, and rows are appended in task order
    # within a run rather than spread among earlier runs' rows of the same task ids
    PrimaryKeyConstraint("run_id", "task_id", "task_status_name", "timestamp"),
    # SQLite: the rows live in the primary key's b-tree, not in a rowid table beside it: one
    # b-tree fewer to write for each of a task's five status rows (other databases ignore it)
    sqlite_with_rowid=False,
)

TASK = Table(
    "task",
    metadata,
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("task_depends", Text, nullable=True),
    Column("task_func_name", Text, nullable=False),
    Column("task_memoize", Text, nullable=False),
    Column("task_hashsum", Text, nullable=True, index=True),
    Column("task_inputs", Text, nullable=True),
    Column("task_outputs", Text, nullable=True),
    Column("task_stdin", Text, nullable=True),
    Column("task_stdout", Text, nullable=True),
    Column("task_stderr", Text, nullable=True),
    Column("task_time_invoked", DateTime, nullable=True),
    Column("task_time_returned", DateTime, nullable=True),
    Column("task_fail_count", Integer, nullable=False),
    Column("task_fail_cost", Float, nullable=False),
    PrimaryKeyConstraint("run_id", "task_id"),  # Parsl's key, run first (see STATUS)
)

TRY = Table(
    "try",
    metadata,
    Column("try_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("block_id", Text, nullable=True),
    Column("hostname", Text, nullable=True),
    Column("task_executor", Text, nullable=False),
    Column("task_try_time_launched", DateTime, nullable=True),
    Column("task_try_time_running", DateTime, nullable=True),
    Column("task_try_time_returned", DateTime, nullable=True),
    Column("task_fail_history", Text, nullable=True),
    Column("task_joins", Text, nullable=True),
    PrimaryKeyConstraint("run_id", "task_id", "try_id"),  # Parsl's key, run first (see STATUS)
)

NODE = Table(
    "node",
    metadata,
    Column("id", Integer, nullable=False, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("uid", Text, nullable=False),
    Column("block_id", Text, nullable=False),
    Column("cpu_count", Integer, nullable=False),
    Column("total_memory", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("worker_count", Integer, nullable=False),
    Column("python_v", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("last_heartbeat", DateTime, nullable=False),
)

BLOCK = Table(
    "block",
    metadata,
    Column("run_id", Text, nullable=False),
    Column("executor_label", Text, nullable=False),
    Column("block_id", Text, nullable=False),
    Column("job_id", Text, nullable=True),
    Column("timestamp", DateTime, nullable=False),
    Column("status", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "block_id", "executor_label", "timestamp"),
)

#: the resource columns that are not Float: the pid, the process status and CPU number (text)
_RESOURCE_TYPES = {"psutil_process_pid": Integer, "psutil_process_status": Text, "psutil_cpu_num": Text}

RESOURCE = Table(
    "resource",
    metadata,
    Column("try_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, ForeignKey("workflow.run_id"), nullable=False),
    Column("timestamp", DateTime, nullable=False),
    # one nullable column per field of a resource sample, in the sample's order
    *(Column(name, _RESOURCE_TYPES.get(name, Float), nullable=True) for name in RESOURCE_FIELDS),
    PrimaryKeyConstraint("try_id", "task_id", "run_id", "timestamp"),
)

# Not in Parsl's schema, harmless to its readers: every dashboard query selects one run's rows.
# (The status, task and try tables need none: their keys start with the run.)
Index("resource_run_task", RESOURCE.c.run_id, RESOURCE.c.task_id)

TABLES = {t.name: t for t in (WORKFLOW, TASK, TRY, STATUS, RESOURCE, NODE, BLOCK)}


def with_installed_driver(url: str | URL) -> URL:
    """``url``, naming psycopg (3) for a driverless ``postgresql://`` URL when only it is installed.

    SQLAlchemy 2.0 (the newest for Python 3.10) reads ``postgresql://`` as psycopg2; 2.1 as
    psycopg. A user with psycopg alone installed gets a working URL on either.
    """
    from importlib.util import find_spec

    url = make_url(url)
    if url.drivername == "postgresql" and find_spec("psycopg2") is None and find_spec("psycopg") is not None:
        return url.set(drivername="postgresql+psycopg")
    return url
