"""SQL for workflows and tasks: lists, per-app state counts, one task's rows. Work is done in SQL.

Every function takes an open ``Connection`` and returns plain rows or dicts; nothing here knows
about Flask.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Text, case, func, literal, select, type_coerce
from sqlalchemy.sql import Subquery

from ..db import BLOCK, NODE, STATUS, TASK, TRY, WORKFLOW
from .database import epoch
from .states import FAILED, FINAL, LIFE_ORDER

__all__ = [
    "TaskPage",
    "app_state_counts",
    "final_states",
    "parse_depends",
    "task_detail",
    "task_page",
    "workflow",
    "workflows",
]


def _state_rank():
    """A CASE giving each known state its position in LIFE_ORDER, to break timestamp ties."""
    return case({s: i + 1 for i, s in enumerate(LIFE_ORDER)}, value=STATUS.c.task_status_name, else_=0)


def final_states(run_id: str, dialect: str = "", task_ids: list[int] | None = None) -> Subquery:
    """(task_id, state): each task's current state, as a subquery over ``status``.

    A final state (exec_done, failed, ...) wins over any later worker-side row such as
    running_ended, whose timestamp comes from another clock; otherwise the latest row wins.
    On SQLite one GROUP BY does it (a bare column takes its value from the row holding the
    max(), and SQLAlchemy stores timestamps as sortable text), about three times faster than
    the window function used elsewhere.
    """
    s = STATUS
    final = case((s.c.task_status_name.in_(FINAL), 1), else_=0)
    where = [s.c.run_id == run_id] + ([s.c.task_id.in_(task_ids)] if task_ids is not None else [])
    if dialect == "sqlite":
        rank = case(
            {st: f"{i + 10}" for i, st in enumerate(LIFE_ORDER)}, value=s.c.task_status_name, else_="09"
        )
        key = type_coerce(final, Text).concat(type_coerce(s.c.timestamp, Text)).concat(rank)
        return (
            select(s.c.task_id, s.c.task_status_name.label("state"), func.max(key).label("key"))
            .where(*where)
            .group_by(s.c.task_id)
            .subquery("final_state")
        )
    rn = func.row_number().over(
        partition_by=s.c.task_id, order_by=(final.desc(), s.c.timestamp.desc(), _state_rank().desc())
    )
    inner = (
        select(s.c.task_id, s.c.task_status_name.label("state"), rn.label("rn"))
        .where(*where)
        .subquery("ranked")
    )
    return select(inner.c.task_id, inner.c.state).where(inner.c.rn == 1).subquery("final_state")


def workflows(conn: Connection) -> list[dict[str, Any]]:
    """Every workflow, newest first, with its task count and completed/failed counts.

    Finished workflows report the counts the hub stored; running ones are counted from their
    tasks' current states.
    """
    totals = select(TASK.c.run_id, func.count().label("tasks")).group_by(TASK.c.run_id).subquery("totals")
    rows = (
        conn.execute(
            select(WORKFLOW, func.coalesce(totals.c.tasks, 0).label("tasks"))
            .outerjoin(totals, totals.c.run_id == WORKFLOW.c.run_id)
            .order_by(WORKFLOW.c.time_began.desc())
        )
        .mappings()
        .all()
    )
    out = []
    for r in rows:
        w = dict(r)
        w["running"] = r["time_completed"] is None
        if w["running"]:
            counts = state_counts(conn, r["run_id"])
            w["tasks_completed_count"] = counts.get("exec_done", 0) + counts.get("memo_done", 0)
            w["tasks_failed_count"] = sum(counts.get(s, 0) for s in FAILED)
        out.append(w)
    return out


def workflow(conn: Connection, run_id: str) -> dict[str, Any] | None:
    """One workflow's row, with ``running`` and ``runtime``; None for an unknown run id."""
    r = conn.execute(select(WORKFLOW).where(WORKFLOW.c.run_id == run_id)).mappings().first()
    if r is None:
        return None
    w = dict(r)
    w["running"] = r["time_completed"] is None
    end = r["time_completed"] or dt.datetime.now()
    w["runtime"] = (end - r["time_began"]).total_seconds() if r["time_began"] else None
    return w


def state_counts(conn: Connection, run_id: str) -> dict[str, int]:
    """Tasks per current state in one workflow (tasks with no status row count as unsched)."""
    return {state: n for _, state, n in _app_state_rows(conn, run_id, by_app=False)}


def _app_state_rows(conn: Connection, run_id: str, by_app: bool = True):
    fs = final_states(run_id, conn.dialect.name)
    state = func.coalesce(fs.c.state, literal("unsched")).label("state")
    app = TASK.c.task_func_name if by_app else literal("").label("app")
    q = (
        select(app, state, func.count().label("n"))
        .select_from(TASK.outerjoin(fs, fs.c.task_id == TASK.c.task_id))
        .where(TASK.c.run_id == run_id)
        .group_by(app, state)
    )
    return conn.execute(q).all()


def app_state_counts(conn: Connection, run_id: str) -> dict[str, dict[str, int]]:
    """{app name: {state: tasks}}, apps sorted by name."""
    out: dict[str, dict[str, int]] = {}
    for app, state, n in _app_state_rows(conn, run_id):
        out.setdefault(app, {})[state] = n
    return dict(sorted(out.items()))


def app_names(conn: Connection, run_id: str) -> list[str]:
    """The app (function) names of a workflow's tasks, sorted."""
    q = (
        select(TASK.c.task_func_name)
        .where(TASK.c.run_id == run_id)
        .distinct()
        .order_by(TASK.c.task_func_name)
    )
    return list(conn.scalars(q))


@dataclass
class TaskPage:
    """One page of a filtered task list."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def task_page(
    conn: Connection,
    run_id: str,
    *,
    app: str | None = None,
    state: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> TaskPage:
    """Tasks of a workflow ordered by id, filtered by app and current state, one page of them.

    Without a state filter the page is chosen from ``task`` alone and only its tasks' states
    and tries are looked up, so a page costs the same in a workflow of any size.
    """
    cond = [TASK.c.run_id == run_id]
    if app is not None:
        cond.append(TASK.c.task_func_name == app)
    ids: list[int] | None = None
    if state:
        fs_all = final_states(run_id, conn.dialect.name)
        source = TASK.outerjoin(fs_all, fs_all.c.task_id == TASK.c.task_id)
        cond.append(func.coalesce(fs_all.c.state, literal("unsched")) == state)
    else:
        source = TASK
    total = conn.scalar(select(func.count()).select_from(source).where(*cond)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    ids = list(
        conn.scalars(
            select(TASK.c.task_id)
            .select_from(source)
            .where(*cond)
            .order_by(TASK.c.task_id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    fs = final_states(run_id, conn.dialect.name, ids)
    tries = (
        select(
            TRY.c.task_id,
            func.count().label("tries"),
            func.max(TRY.c.task_executor).label("executor"),
            func.max(TRY.c.hostname).label("hostname"),
        )
        .where(TRY.c.run_id == run_id, TRY.c.task_id.in_(ids))
        .group_by(TRY.c.task_id)
        .subquery("tries")
    )
    q = (
        select(
            TASK.c.task_id,
            TASK.c.task_func_name,
            TASK.c.task_time_invoked,
            TASK.c.task_time_returned,
            TASK.c.task_fail_count,
            TASK.c.task_depends,
            func.coalesce(fs.c.state, literal("unsched")).label("state"),
            func.coalesce(tries.c.tries, 0).label("tries"),
            tries.c.executor,
            tries.c.hostname,
        )
        .select_from(
            TASK.outerjoin(fs, fs.c.task_id == TASK.c.task_id).outerjoin(
                tries, tries.c.task_id == TASK.c.task_id
            )
        )
        .where(TASK.c.run_id == run_id, TASK.c.task_id.in_(ids))
        .order_by(TASK.c.task_id)
    )
    rows = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        d["duration"] = _seconds(r["task_time_invoked"], r["task_time_returned"])
        rows.append(d)
    return TaskPage(rows, total, page, pages)


def _seconds(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    return (b - a).total_seconds() if a is not None and b is not None else None


_INT = re.compile(r"-?\d+")


def parse_depends(text: str | None) -> list[int]:
    """Task ids from ``task_depends`` (Parsl writes them comma-separated)."""
    return [int(m) for m in _INT.findall(text or "")]


def task_detail(conn: Connection, run_id: str, task_id: int) -> dict[str, Any] | None:
    """Everything the task page shows about one task; None when it does not exist."""
    r = (
        conn.execute(select(TASK).where(TASK.c.run_id == run_id, TASK.c.task_id == task_id))
        .mappings()
        .first()
    )
    if r is None:
        return None
    task = dict(r)
    task["duration"] = _seconds(r["task_time_invoked"], r["task_time_returned"])
    task["tries"] = [
        dict(t)
        for t in conn.execute(
            select(TRY).where(TRY.c.run_id == run_id, TRY.c.task_id == task_id).order_by(TRY.c.try_id)
        ).mappings()
    ]
    for t in task["tries"]:
        t["queued"] = _seconds(t["task_try_time_launched"], t["task_try_time_running"])
        t["ran"] = _seconds(t["task_try_time_running"], t["task_try_time_returned"])
    task["statuses"] = [
        dict(s)
        for s in conn.execute(
            select(STATUS.c.task_status_name, STATUS.c.timestamp, STATUS.c.try_id)
            .where(STATUS.c.run_id == run_id, STATUS.c.task_id == task_id)
            .order_by(STATUS.c.timestamp, _state_rank())
        ).mappings()
    ]
    fs = final_states(run_id, conn.dialect.name, [task_id])
    task["state"] = conn.scalar(select(fs.c.state)) or "unsched"
    task["depends"] = parse_depends(r["task_depends"])
    task["dependents"] = dependents(conn, run_id, task_id)
    last = task["tries"][-1] if task["tries"] else {}
    task["executor"] = last.get("task_executor")
    task["hostname"] = last.get("hostname")
    return task


def dependents(conn: Connection, run_id: str, task_id: int) -> list[int]:
    """Ids of the tasks that list ``task_id`` among their dependencies."""
    padded = literal(",") + func.replace(TASK.c.task_depends, " ", "") + literal(",")
    q = (
        select(TASK.c.task_id, TASK.c.task_depends)
        .where(TASK.c.run_id == run_id, padded.like(f"%,{int(task_id)},%"))
        .order_by(TASK.c.task_id)
    )
    return [tid for tid, deps in conn.execute(q) if task_id in parse_depends(deps)]


def blocks(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Status changes of the workflow's blocks, in time order."""
    return [
        dict(r)
        for r in conn.execute(
            select(BLOCK).where(BLOCK.c.run_id == run_id).order_by(BLOCK.c.timestamp)
        ).mappings()
    ]


def nodes(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Worker-pool (node) rows of the workflow, in time order."""
    return [
        dict(r)
        for r in conn.execute(
            select(NODE).where(NODE.c.run_id == run_id).order_by(NODE.c.timestamp, NODE.c.id)
        ).mappings()
    ]


def gantt_tasks(
    conn: Connection, run_id: str, page: int, per_page: int
) -> list[tuple[int, str, list[tuple[Any, str]]]]:
    """One page of tasks by id, each as (task_id, app, [(epoch seconds, state), ...] in order)."""
    ids = conn.execute(
        select(TASK.c.task_id, TASK.c.task_func_name)
        .where(TASK.c.run_id == run_id)
        .order_by(TASK.c.task_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if not ids:
        return []
    rows = conn.execute(
        select(STATUS.c.task_id, epoch(STATUS.c.timestamp), STATUS.c.task_status_name).where(
            STATUS.c.run_id == run_id, STATUS.c.task_id.between(ids[0][0], ids[-1][0])
        )
    ).all()
    history: dict[int, list[tuple[Any, str]]] = {}
    for tid, t, state in rows:
        history.setdefault(tid, []).append((t, state))
    rank = {s: i for i, s in enumerate(LIFE_ORDER)}
    out = []
    for tid, app in ids:
        h = history.get(tid, [])
        h.sort(key=lambda e: (e[1] in FINAL, e[0], rank.get(e[1], -1)))
        out.append((tid, app, h))
    return out
