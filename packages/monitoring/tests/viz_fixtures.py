"""Monitoring databases for the parsl-visualize tests, filled the way the hub fills them.

``build_database(url)`` writes three workflows:

- ``genome-pipeline`` (completed): apps ``fetch`` -> ``align`` -> ``merge`` plus ``summarize``,
  with a retried task, a finally failed task, a dependency failure, a memoized task, resource
  samples, two worker pools (``node``) and blocks;
- a running workflow whose name, app name and stdout path are HTML (to test escaping);
- nothing else; ``add_large_workflow`` adds a 10,000-task workflow for the size tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, insert

from parsl_monitoring.db import BLOCK, NODE, RESOURCE, STATUS, TASK, TRY, WORKFLOW, metadata

T0 = dt.datetime(2026, 11, 2, 9, 30, 0)
EVIL = "<script>alert(1)</script>"
EVIL_APP = "<b>bold_app</b>"
EVIL_PATH = "/tmp/out<img src=x onerror=alert(2)>.txt"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@dataclass
class Rows:
    """Rows for each table, inserted in one go."""

    workflow: list = field(default_factory=list)
    task: list = field(default_factory=list)
    try_: list = field(default_factory=list)
    status: list = field(default_factory=list)
    resource: list = field(default_factory=list)
    node: list = field(default_factory=list)
    block: list = field(default_factory=list)

    def insert(self, engine: Engine) -> None:
        with engine.begin() as conn:
            for table, rows in (
                (WORKFLOW, self.workflow),
                (TASK, self.task),
                (TRY, self.try_),
                (STATUS, self.status),
                (RESOURCE, self.resource),
                (NODE, self.node),
                (BLOCK, self.block),
            ):
                if rows:
                    conn.execute(insert(table), rows)


@dataclass
class Facts:
    """What build_database wrote, for the tests to assert against."""

    done_run: str = "3f2a9c1e-0d4b-4e8e-9a77-6c1f0b2d5e10"
    running_run: str = "77aa0000-1111-4222-8333-944455556666"
    tasks: dict = field(default_factory=dict)  # run id -> {task id: (app, final state)}
    retried_task: int = 13
    failed_task: int = 15
    dep_fail_task: int = 20
    memo_task: int = 23


def workflow_row(run_id: str, name: str, began: float, ended: float | None, **kw) -> dict:
    return dict(
        run_id=run_id,
        workflow_name=name,
        workflow_version=kw.get("version", "1.0"),
        time_began=at(began),
        time_completed=None if ended is None else at(ended),
        host=kw.get("host", "login1.cluster"),
        user=kw.get("user", "alice"),
        rundir=kw.get("rundir", "/home/alice/runinfo/000"),
        tasks_failed_count=kw.get("failed", 0),
        tasks_completed_count=kw.get("completed", 0),
    )


def add_task(
    rows: Rows,
    run_id: str,
    task_id: int,
    app: str,
    start: float,
    *,
    outcomes=("ok",),
    duration: float = 4.0,
    depends=(),
    executor: str = "htex",
    host: str = "node01",
    block: str = "0",
    samples: bool = True,
    stdout: str | None = None,
) -> str:
    """One task with a try per outcome (``ok``, ``fail``) or ``dep_fail``/``memo``; its final state."""
    t = start
    statuses = [("pending", t, 0)]
    invoked, returned = at(t), None
    fail_count = 0
    final = "pending"
    if outcomes == ("dep_fail",):
        statuses.append(("dep_fail", t + 0.01, 0))
        returned, final = at(t + 0.01), "dep_fail"
    elif outcomes == ("memo",):
        statuses.append(("memo_done", t + 0.01, 0))
        returned, final = at(t + 0.01), "memo_done"
    else:
        for try_id, outcome in enumerate(outcomes):
            launched, running = t + 0.1, t + 0.3
            end = running + duration
            statuses += [
                ("launched", launched, try_id),
                ("running", running, try_id),
                ("running_ended", end, try_id),
            ]
            last = try_id == len(outcomes) - 1
            if outcome == "ok":
                statuses.append(("exec_done", end + 0.05, try_id))
                final = "exec_done"
            else:
                fail_count += 1
                statuses.append(("failed" if last else "fail_retryable", end + 0.05, try_id))
                final = "failed"
                if not last:
                    statuses.append(("pending", end + 0.06, try_id + 1))
            rows.try_.append(
                dict(
                    try_id=try_id,
                    task_id=task_id,
                    run_id=run_id,
                    block_id=block,
                    hostname=host,
                    task_executor=executor,
                    task_try_time_launched=at(launched),
                    task_try_time_running=at(running),
                    task_try_time_returned=at(end + 0.05),
                    task_fail_history=None if outcome == "ok" else f"ValueError('bad input in try {try_id}')",
                    task_joins=None,
                )
            )
            if samples:
                n = max(1, int(duration))
                for k in range(n + 1):
                    ts = running + min(k * 1.0, duration)
                    rows.resource.append(
                        dict(
                            try_id=try_id,
                            task_id=task_id,
                            run_id=run_id,
                            timestamp=at(ts),
                            resource_monitoring_interval=1.0,
                            psutil_process_pid=4000 + task_id,
                            psutil_process_memory_percent=1.5 + k * 0.1,
                            psutil_process_children_count=0.0,
                            psutil_process_time_user=(0.5 + 0.1 * (task_id % 4)) * k,
                            psutil_process_time_system=0.1 * k,
                            psutil_process_memory_virtual=400e6 + k * 1e6,
                            psutil_process_memory_resident=(50 + 10 * k + task_id % 7) * 2**20,
                            psutil_process_disk_read=1e6 * k,
                            psutil_process_disk_write=2e5 * k,
                            psutil_process_status="running",
                            psutil_cpu_num=str(task_id % 4),
                            psutil_process_num_ctx_switches_voluntary=10.0 * k,
                            psutil_process_num_ctx_switches_involuntary=1.0 * k,
                        )
                    )
            t = end + 0.06
        returned = at(t - 0.01)
    for name, ts, try_id in statuses:
        rows.status.append(
            dict(task_id=task_id, task_status_name=name, timestamp=at(ts), run_id=run_id, try_id=try_id)
        )
    rows.task.append(
        dict(
            task_id=task_id,
            run_id=run_id,
            task_depends=",".join(str(d) for d in depends) or None,
            task_func_name=app,
            task_memoize="True" if outcomes == ("memo",) else "False",
            task_hashsum=f"{task_id:032x}",
            task_inputs="[]",
            task_outputs="[]",
            task_stdin=None,
            task_stdout=stdout or f"/home/alice/runinfo/000/task_{task_id}.out",
            task_stderr=f"/home/alice/runinfo/000/task_{task_id}.err",
            task_time_invoked=invoked,
            task_time_returned=returned,
            task_fail_count=fail_count,
            task_fail_cost=float(fail_count),
        )
    )
    return final


def build_database(url: str) -> Facts:
    """Create the schema at ``url`` and write the two workflows described above."""
    engine = create_engine(url)
    metadata.create_all(engine)
    facts = Facts()
    rows = Rows()
    run = facts.done_run
    tasks: dict[int, tuple[str, str]] = {}
    for i in range(10):
        tasks[i] = (
            "fetch",
            add_task(rows, run, i, "fetch", 1 + i * 0.5, duration=2 + i % 3, host=f"node0{1 + i % 2}"),
        )
    for i in range(10, 20):
        outcomes = {13: ("fail", "ok"), 15: ("fail", "fail")}.get(i, ("ok",))
        tasks[i] = (
            "align",
            add_task(
                rows,
                run,
                i,
                "align",
                8 + (i - 10) * 0.7,
                outcomes=outcomes,
                duration=5 + i % 4,
                depends=[i - 10],
                host=f"node0{1 + i % 2}",
            ),
        )
    tasks[20] = (
        "merge",
        add_task(rows, run, 20, "merge", 40, outcomes=("dep_fail",), depends=list(range(10, 20))),
    )
    tasks[21] = ("summarize", add_task(rows, run, 21, "summarize", 20, depends=[10, 11], duration=3))
    tasks[22] = ("summarize", add_task(rows, run, 22, "summarize", 21, depends=[12], duration=3))
    tasks[23] = ("summarize", add_task(rows, run, 23, "summarize", 21.5, outcomes=("memo",), depends=[14]))
    done = sum(1 for _, s in tasks.values() if s in ("exec_done", "memo_done"))
    failed = sum(1 for _, s in tasks.values() if s in ("failed", "dep_fail"))
    rows.workflow.append(
        workflow_row(run, "genome-pipeline", 0, 45, version="1.2", completed=done, failed=failed)
    )
    for k, host in enumerate(("node01", "node02")):
        for active, ts in ((True, 0.5 + k), (False, 44.0)):
            rows.node.append(
                dict(
                    run_id=run,
                    hostname=host,
                    uid=f"manager-{k:04x}",
                    block_id=str(k),
                    cpu_count=8,
                    total_memory=32 * 2**30,
                    active=active,
                    worker_count=4,
                    python_v="3.11.2",
                    timestamp=at(ts),
                    last_heartbeat=at(ts),
                )
            )
        for status, ts in (("PENDING", 0.1), ("RUNNING", 0.4 + k), ("COMPLETED", 44.5)):
            rows.block.append(
                dict(
                    run_id=run,
                    executor_label="htex",
                    block_id=str(k),
                    job_id=f"12345{k}",
                    timestamp=at(ts),
                    status=status,
                )
            )
    facts.tasks[run] = tasks

    run2 = facts.running_run
    rows.workflow.append(workflow_row(run2, EVIL, 100, None, version=EVIL, user="bob"))
    running: dict[int, tuple[str, str]] = {}
    running[0] = (
        EVIL_APP,
        add_task(
            rows, run2, 0, EVIL_APP, 101, duration=2, stdout=EVIL_PATH, executor="threads", samples=False
        ),
    )
    running[1] = (
        "wait",
        add_task(rows, run2, 1, "wait", 101.5, duration=1, depends=[0], executor="threads", samples=False),
    )
    # Task 2 is running: pending, launched, running, and nothing after.
    rows.task.append(
        dict(
            task_id=2,
            run_id=run2,
            task_depends="1",
            task_func_name="wait",
            task_memoize="False",
            task_hashsum=None,
            task_inputs=None,
            task_outputs=None,
            task_stdin=None,
            task_stdout=None,
            task_stderr=None,
            task_time_invoked=at(104),
            task_time_returned=None,
            task_fail_count=0,
            task_fail_cost=0.0,
        )
    )
    for name, ts in (("pending", 104), ("launched", 104.2), ("running", 104.3)):
        rows.status.append(dict(task_id=2, task_status_name=name, timestamp=at(ts), run_id=run2, try_id=0))
    rows.try_.append(
        dict(
            try_id=0,
            task_id=2,
            run_id=run2,
            block_id=None,
            hostname="laptop",
            task_executor="threads",
            task_try_time_launched=at(104.2),
            task_try_time_running=at(104.3),
            task_try_time_returned=None,
            task_fail_history=None,
            task_joins=None,
        )
    )
    running[2] = ("wait", "running")
    facts.tasks[run2] = running
    rows.insert(engine)
    engine.dispose()
    return facts


def add_large_workflow(url: str, run_id: str = "large-0000", n_tasks: int = 10_000) -> None:
    """A workflow of ``n_tasks`` tasks in chains of ten, four apps, three resource samples each."""
    engine = create_engine(url)
    metadata.create_all(engine)
    rows = Rows()
    apps = ("prep", "simulate", "analyse", "plot")
    for i in range(n_tasks):
        start = (i // 10) * 0.05 + (i % 10) * 1.0
        add_task(
            rows,
            run_id,
            i,
            apps[i % 4],
            start,
            duration=2.0,
            depends=[i - 1] if i % 10 else [],
            outcomes=("fail",) if i % 997 == 5 else ("ok",),
        )
    rows.workflow.append(workflow_row(run_id, "large", 0, 60, completed=n_tasks))
    rows.insert(engine)
    engine.dispose()
