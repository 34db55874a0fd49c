"""Time series of one workflow, aggregated in SQL into a fixed number of time buckets.

A workflow of 10,000 tasks has ~60,000 status rows and maybe far more resource samples; the
database groups them into at most ``MAX_BUCKETS`` buckets per series, so the pages get a few
hundred numbers whatever the workflow's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, literal, select, union_all

from ..db import NODE, RESOURCE, STATUS, TASK, TRY, WORKFLOW
from .database import epoch, ifloor
from .queries import _state_rank
from .states import FINAL

__all__ = [
    "Span",
    "active_tries_per_app",
    "finished_per_app",
    "histogram",
    "resource_per_app",
    "resource_summary",
    "state_counts_over_time",
    "task_resources",
    "workers_over_time",
    "workflow_span",
]

MAX_BUCKETS = 150


@dataclass
class Span:
    """A workflow's time range (epoch seconds) cut into ``buckets`` buckets of ``width`` seconds."""

    t0: float
    t1: float
    buckets: int = MAX_BUCKETS

    @property
    def width(self) -> float:
        return max(self.t1 - self.t0, 1e-3) / self.buckets

    def ends(self) -> list[float]:
        """The end of each bucket, in seconds since t0."""
        return [(i + 1) * self.width for i in range(self.buckets)]

    def bucket(self, t_col):
        """SQL: the bucket index of an epoch-seconds expression (may fall outside 0..buckets-1)."""
        return ifloor((t_col - self.t0) / self.width)

    def clamp(self, b: int | None) -> int:
        return min(max(int(b or 0), 0), self.buckets - 1)

    def coarser(self, min_width: float) -> Span:
        """The same range in fewer buckets, none narrower than ``min_width`` seconds."""
        n = int(max(self.t1 - self.t0, 1e-3) // max(min_width, 1e-3))
        return Span(self.t0, self.t1, max(1, min(self.buckets, n)))


def workflow_span(conn: Connection, run_id: str, buckets: int = MAX_BUCKETS) -> Span | None:
    """From the workflow's start to its end or its latest recorded event."""
    began, completed = conn.execute(
        select(epoch(WORKFLOW.c.time_began), epoch(WORKFLOW.c.time_completed)).where(
            WORKFLOW.c.run_id == run_id
        )
    ).one()
    first, last = conn.execute(
        select(func.min(epoch(STATUS.c.timestamp)), func.max(epoch(STATUS.c.timestamp))).where(
            STATUS.c.run_id == run_id
        )
    ).one()
    starts = [v for v in (began, first) if v is not None]
    ends = [v for v in (completed, last) if v is not None]
    if not starts or not ends:
        return None
    t0 = min(starts)
    return Span(t0, max(max(ends), t0 + 1e-3), buckets)


def _cumulate(span: Span, deltas: dict[str, dict[int, float]]) -> dict[str, list[float]]:
    out = {}
    for key, by_bucket in deltas.items():
        acc, series = 0.0, []
        for i in range(span.buckets):
            acc += by_bucket.get(i, 0.0)
            series.append(max(acc, 0.0))
        out[key] = series
    return out


def state_counts_over_time(conn: Connection, run_id: str, span: Span) -> dict[str, list[float]]:
    """{state: tasks in that state at the end of each bucket}.

    Each status row adds one to its state and takes one from the task's previous state; the
    database sums these per bucket and Python adds the buckets up.
    """
    s = STATUS
    final = case((s.c.task_status_name.in_(FINAL), 1), else_=0)
    prev = func.lag(s.c.task_status_name).over(
        partition_by=s.c.task_id, order_by=(final, s.c.timestamp, _state_rank())
    )
    ev = (
        select(s.c.task_status_name.label("st"), prev.label("prev"), epoch(s.c.timestamp).label("t"))
        .where(s.c.run_id == run_id)
        .cte("ev")
    )  # a CTE: both halves below read it once
    b = span.bucket(ev.c.t).label("b")
    moves = union_all(
        select(b, ev.c.st.label("st"), literal(1).label("d")),
        select(b, ev.c.prev.label("st"), literal(-1).label("d")).where(ev.c.prev.is_not(None)),
    ).subquery("moves")
    deltas: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for bucket, state, d in conn.execute(
        select(moves.c.b, moves.c.st, func.sum(moves.c.d)).group_by(moves.c.b, moves.c.st)
    ):
        deltas[state][span.clamp(bucket)] += d
    return _cumulate(span, deltas)


def _per_app_counts(
    conn: Connection, run_id: str, span: Span, t_col, of_tries: bool = True
) -> dict[str, dict[int, float]]:
    """{app: {bucket: rows whose ``t_col`` falls in it}} over tries (or tasks)."""
    b = span.bucket(epoch(t_col)).label("b")
    source = (
        TRY.join(TASK, (TASK.c.run_id == TRY.c.run_id) & (TASK.c.task_id == TRY.c.task_id))
        if of_tries
        else TASK
    )
    q = (
        select(TASK.c.task_func_name, b, func.count())
        .select_from(source)
        .where(TASK.c.run_id == run_id, t_col.is_not(None))
        .group_by(TASK.c.task_func_name, b)
    )
    out: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for app, bucket, n in conn.execute(q):
        out[app][span.clamp(bucket)] += n
    return out


def active_tries_per_app(conn: Connection, run_id: str, span: Span) -> dict[str, list[float]]:
    """{app: tries running at some moment of each bucket} (from launch when never seen running)."""
    start = func.coalesce(TRY.c.task_try_time_running, TRY.c.task_try_time_launched)
    started = _per_app_counts(conn, run_id, span, start)
    ended = _per_app_counts(conn, run_id, span, TRY.c.task_try_time_returned)
    out = {}
    for app in sorted(started):
        acc_s = acc_e = 0.0
        series = []
        for i in range(span.buckets):
            acc_s += started[app].get(i, 0.0)
            series.append(max(acc_s - acc_e, 0.0))
            acc_e += ended.get(app, {}).get(i, 0.0)
        out[app] = series
    return out


def finished_per_app(conn: Connection, run_id: str, span: Span) -> dict[str, list[float]]:
    """{app: tasks returned (successfully or not) by the end of each bucket}."""
    counts = _per_app_counts(conn, run_id, span, TASK.c.task_time_returned, of_tries=False)
    return dict(sorted(_cumulate(span, counts).items()))


def _cpu_time():
    return func.coalesce(RESOURCE.c.psutil_process_time_user, 0.0) + func.coalesce(
        RESOURCE.c.psutil_process_time_system, 0.0
    )


def resource_span(conn: Connection, run_id: str, span: Span) -> Span:
    """``span`` with buckets no narrower than the resource sampling interval."""
    interval = conn.scalar(
        select(func.avg(RESOURCE.c.resource_monitoring_interval)).where(RESOURCE.c.run_id == run_id)
    )
    return span.coarser(float(interval or 0.0))


def resource_per_app(
    conn: Connection, run_id: str, span: Span
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """({app: CPU cores in use per bucket}, {app: resident memory in bytes per bucket})."""
    r = RESOURCE
    cpu = _cpu_time()
    prev = func.lag(cpu).over(partition_by=(r.c.task_id, r.c.try_id), order_by=r.c.timestamp)
    samples = (
        select(
            r.c.task_id,
            r.c.try_id,
            epoch(r.c.timestamp).label("t"),
            (cpu - func.coalesce(prev, 0.0)).label("dcpu"),
            r.c.psutil_process_memory_resident.label("rss"),
        )
        .where(r.c.run_id == run_id)
        .subquery("samples")
    )
    b = span.bucket(samples.c.t).label("b")
    per_try = (
        select(
            b,
            TASK.c.task_func_name.label("app"),
            func.sum(samples.c.dcpu).label("dcpu"),
            func.max(samples.c.rss).label("rss"),
        )
        .select_from(samples.join(TASK, (TASK.c.task_id == samples.c.task_id) & (TASK.c.run_id == run_id)))
        .group_by(b, TASK.c.task_func_name, samples.c.task_id, samples.c.try_id)
        .subquery("per_try")
    )
    q = select(per_try.c.b, per_try.c.app, func.sum(per_try.c.dcpu), func.sum(per_try.c.rss)).group_by(
        per_try.c.b, per_try.c.app
    )
    cpu_out: dict[str, list[float]] = {}
    mem_out: dict[str, list[float]] = {}
    for bucket, app, dcpu, rss in conn.execute(q):
        i = span.clamp(bucket)
        cpu_out.setdefault(app, [0.0] * span.buckets)[i] += max(dcpu or 0.0, 0.0) / span.width
        mem_out.setdefault(app, [0.0] * span.buckets)[i] += rss or 0.0
    return dict(sorted(cpu_out.items())), dict(sorted(mem_out.items()))


def _per_try_peaks(run_id: str):
    r = RESOURCE
    return (
        select(
            r.c.task_id,
            r.c.try_id,
            func.max(_cpu_time()).label("cpu"),
            func.max(r.c.psutil_process_memory_resident).label("rss"),
            func.max(r.c.psutil_process_disk_read).label("read"),
            func.max(r.c.psutil_process_disk_write).label("write"),
        )
        .where(r.c.run_id == run_id)
        .group_by(r.c.task_id, r.c.try_id)
        .subquery("peaks")
    )


def resource_summary(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Per app: tries sampled, mean and max CPU time and peak resident memory, bytes read/written."""
    p = _per_try_peaks(run_id)
    q = (
        select(
            TASK.c.task_func_name.label("app"),
            func.count().label("tries"),
            func.avg(p.c.cpu).label("cpu_avg"),
            func.max(p.c.cpu).label("cpu_max"),
            func.avg(p.c.rss).label("rss_avg"),
            func.max(p.c.rss).label("rss_max"),
            func.sum(p.c.read).label("read"),
            func.sum(p.c.write).label("write"),
        )
        .select_from(p.join(TASK, (TASK.c.task_id == p.c.task_id) & (TASK.c.run_id == run_id)))
        .group_by(TASK.c.task_func_name)
        .order_by(TASK.c.task_func_name)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def histogram(conn: Connection, run_id: str, column: str, bins: int = 20) -> list[tuple[float, float, int]]:
    """(low, high, tries) bins of one per-try peak (``cpu`` or ``rss``) across the workflow."""
    p = _per_try_peaks(run_id)
    col = p.c[column]
    lo, hi = conn.execute(select(func.min(col), func.max(col))).one()
    if lo is None:
        return []
    width = (hi - lo) / bins if hi > lo else 1.0
    b = ifloor((col - lo) / width).label("b")
    counts = [0] * bins
    for bucket, n in conn.execute(select(b, func.count()).where(col.is_not(None)).group_by(b)):
        counts[min(max(int(bucket), 0), bins - 1)] += n
    return [(lo + i * width, lo + (i + 1) * width, counts[i]) for i in range(bins)]


def workers_over_time(conn: Connection, run_id: str, span: Span) -> list[float] | None:
    """Workers connected at the end of each bucket, from the ``node`` rows; None without any."""
    rows = conn.execute(
        select(NODE.c.uid, NODE.c.active, NODE.c.worker_count, epoch(NODE.c.timestamp))
        .where(NODE.c.run_id == run_id)
        .order_by(NODE.c.timestamp, NODE.c.id)
    ).all()
    if not rows:
        return None
    current: dict[str, int] = {}
    out, j = [], 0
    for end in span.ends():
        while j < len(rows) and rows[j][3] - span.t0 <= end:
            uid, active, count, _ = rows[j]
            current[uid] = int(count or 0) if active else 0
            j += 1
        out.append(float(sum(current.values())))
    return out


def task_resources(conn: Connection, run_id: str, task_id: int) -> list[dict[str, Any]]:
    """One task's resource samples in time order, each with ``t`` (epoch seconds) and ``cpu``."""
    r = RESOURCE
    q = (
        select(
            r.c.try_id,
            epoch(r.c.timestamp).label("t"),
            _cpu_time().label("cpu"),
            r.c.psutil_process_memory_resident.label("rss"),
            r.c.psutil_process_memory_virtual.label("vms"),
            r.c.psutil_process_memory_percent.label("mem_percent"),
        )
        .where(r.c.run_id == run_id, r.c.task_id == task_id)
        .order_by(r.c.try_id, r.c.timestamp)
    )
    return [dict(row) for row in conn.execute(q).mappings()]
