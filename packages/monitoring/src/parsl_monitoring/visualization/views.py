"""The dashboard's pages. URLs are Parsl's, so bookmarks into ``parsl-visualize`` keep working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from sqlalchemy import Connection, Engine, func, select

from ..db import RESOURCE, TASK
from . import charts, dag, queries, timeline
from .charts import GanttRow, Series
from .formatting import RANGE_DASH, fmt_bytes, fmt_duration
from .states import FINAL, STATE_COLORS, STATES, app_color, state_color, state_rank

__all__ = ["bp"]

bp = Blueprint("viz", __name__)

GANTT_PER_PAGE = 200
TASKS_PER_PAGE = 100
DAG_LIMIT = 2000


def _conn() -> Connection:
    engine: Engine = current_app.extensions["parsl_monitoring_db"]
    return engine.connect()


def _refresh(running: bool) -> int | None:
    return current_app.config["PARSL_REFRESH_SECONDS"] if running else None


def _workflow_page(template: str, wf: dict[str, Any], *, running: bool | None = None, **context: Any) -> str:
    """A page about workflow ``wf``; it reloads itself while ``running`` (default: while the workflow runs)."""
    live = wf["running"] if running is None else running
    return render_template(template, wf=wf, refresh=_refresh(live), **context)


def _app_series(values: dict[str, Any], colors: dict[str, str], xs: Sequence[float] = ()) -> list[Series]:
    """One series per app, in the app's colour."""
    return [Series(a, colors.get(a, "#777"), v, xs) for a, v in values.items()]


def _workflow_or_404(conn: Connection, run_id: str) -> dict[str, Any]:
    wf = queries.workflow(conn, run_id)
    if wf is None:
        abort(404, description=f"There is no workflow with run id {run_id!r} in this database.")
    g.finished = not wf["running"]
    return wf


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _app_colors(apps: list[str]) -> dict[str, str]:
    return {a: app_color(i) for i, a in enumerate(sorted(apps))}


@bp.route("/")
def index():
    with _conn() as conn:
        wfs = queries.workflows(conn)
    return render_template("workflows.html", workflows=wfs, refresh=_refresh(any(w["running"] for w in wfs)))


@bp.route("/workflow/<run_id>/")
def workflow(run_id: str):
    with _conn() as conn:
        wf = _workflow_or_404(conn, run_id)
        apps = queries.app_state_counts(conn, run_id)
        colors = _app_colors(list(apps))
        totals = {s: sum(c.get(s, 0) for c in apps.values()) for s in STATES}
        other = sorted({s for c in apps.values() for s in c} - set(STATES))
        columns = [s for s in STATES if totals[s]] + other
        n_tasks = sum(sum(c.values()) for c in apps.values())
        span = timeline.workflow_span(conn, run_id)
        plots: dict[str, Any] = {}
        if span is not None:
            ends = span.ends()
            states = timeline.state_counts_over_time(conn, run_id, span)
            plots["states"] = charts.stacked_area(
                "states",
                ends,
                [Series(s, state_color(s), states[s]) for s in STATES + tuple(other) if s in states],
                y_label="tasks",
            )
            active = timeline.active_tries_per_app(conn, run_id, span)
            plots["running"] = charts.stacked_area(
                "running-per-app",
                ends,
                _app_series(active, colors),
                y_label="tasks running",
            )
            done = timeline.finished_per_app(conn, run_id, span)
            plots["finished"] = charts.line_chart(
                "finished-per-app",
                _app_series(done, colors, ends),
                y_label="tasks finished (cumulative)",
            )
        gantt_pages = max(1, -(-n_tasks // GANTT_PER_PAGE))
        gpage = min(_int_arg("gantt_page", 1), gantt_pages)
        plots["gantt"] = _gantt(conn, run_id, span, gpage)
    return _workflow_page(
        "workflow.html",
        wf,
        apps=apps,
        columns=columns,
        totals=totals,
        n_tasks=n_tasks,
        plots=plots,
        app_colors=colors,
        gantt_page=gpage,
        gantt_pages=gantt_pages,
        gantt_per_page=GANTT_PER_PAGE,
    )


def _gantt(conn: Connection, run_id: str, span: timeline.Span | None, page: int):
    if span is None:
        return charts.no_data("No task has reported a state yet.")
    rows = []
    for tid, app, history in queries.gantt_tasks(conn, run_id, page, GANTT_PER_PAGE):
        segments = []
        for i, (t, state) in enumerate(history):
            if i + 1 < len(history):
                end = history[i + 1][0]
            else:
                end = t if state in FINAL else span.t1
            segments.append((t - span.t0, end - span.t0, state, state_color(state)))
        rows.append(GanttRow(f"{tid} {app}", url_for("viz.task", run_id=run_id, task_id=tid), segments))
    seen = {seg[2] for r in rows for seg in r.segments}
    legend = [(s, STATE_COLORS[s]) for s in STATES if s in seen]
    return charts.gantt("gantt", rows, span.t1 - span.t0, legend)


def _task_list(run_id: str, app: str | None):
    state = request.args.get("state") or None
    with _conn() as conn:
        wf = _workflow_or_404(conn, run_id)
        if app is not None and app not in queries.app_names(conn, run_id):
            abort(404, description=f"Workflow {run_id!r} has no tasks of app {app!r}.")
        page = queries.task_page(
            conn, run_id, app=app, state=state, page=_int_arg("page", 1), per_page=TASKS_PER_PAGE
        )
        counts = (
            queries.app_state_counts(conn, run_id).get(app, {})
            if app is not None
            else queries.state_counts(conn, run_id)
        )
        hist = None
        if app is not None:
            hist = _duration_histogram(conn, run_id, app)
    return _workflow_page(
        "tasks.html",
        wf,
        app=app,
        state=state,
        page=page,
        counts=counts,
        states=[s for s in STATES if counts.get(s)],
        histogram=hist,
    )


def _duration_histogram(conn: Connection, run_id: str, app: str):
    from .database import epoch

    dur = epoch(TASK.c.task_time_returned) - epoch(TASK.c.task_time_invoked)
    durations = [
        d
        for d in conn.scalars(
            select(dur).where(
                TASK.c.run_id == run_id, TASK.c.task_func_name == app, TASK.c.task_time_returned.is_not(None)
            )
        )
        if d is not None
    ]
    if not durations:
        return charts.no_data("No task of this app has finished yet.")
    lo, hi, bins = min(durations), max(durations), 20
    width = (hi - lo) / bins if hi > lo else 1.0
    counts = [0] * bins
    for d in durations:
        counts[min(int((d - lo) / width), bins - 1)] += 1
    labels = [fmt_duration(lo + i * width) for i in range(bins)]
    tips = [
        f"{fmt_duration(lo + i * width)}{RANGE_DASH}{fmt_duration(lo + (i + 1) * width)}" for i in range(bins)
    ]
    return charts.bar_chart(
        "durations",
        labels,
        counts,
        color="#4e79a7",
        y_label="tasks",
        tips=tips,
        x_label="time from invocation to return",
    )


@bp.route("/workflow/<run_id>/task/")
def tasks(run_id: str):
    return _task_list(run_id, None)


@bp.route("/workflow/<run_id>/app/<path:app_name>")
def app(run_id: str, app_name: str):
    return _task_list(run_id, app_name)


@bp.route("/workflow/<run_id>/task/<int:task_id>")
def task(run_id: str, task_id: int):
    with _conn() as conn:
        wf = _workflow_or_404(conn, run_id)
        t = queries.task_detail(conn, run_id, task_id)
        if t is None:
            abort(404, description=f"Workflow {run_id!r} has no task {task_id}.")
        samples = timeline.task_resources(conn, run_id, task_id)
    cpu_series, mem_series = _task_resource_series(samples)
    plots = (
        {
            "cpu": charts.line_chart(
                "task-cpu", cpu_series, y_label="CPU %", width=560, x_label="time since first sample"
            ),
            "memory": charts.line_chart(
                "task-memory",
                mem_series,
                y_label="resident memory",
                width=560,
                x_label="time since first sample",
                y_fmt=fmt_bytes,
            ),
        }
        if samples
        else {}
    )
    return _workflow_page(
        "task.html",
        wf,
        running=wf["running"] and t["state"] not in FINAL,
        task=t,
        plots=plots,
        n_samples=len(samples),
    )


def _task_resource_series(samples: list[dict[str, Any]]) -> tuple[list[Series], list[Series]]:
    t0 = samples[0]["t"] if samples else 0.0
    by_try: dict[int, list[dict[str, Any]]] = {}
    for s in samples:
        by_try.setdefault(s["try_id"], []).append(s)
    cpu, mem = [], []
    for i, (try_id, rows) in enumerate(sorted(by_try.items())):
        color = app_color(i)
        xs, ys = [], []
        for prev, cur in zip([None, *rows[:-1]], rows, strict=True):
            if prev is None or cur["t"] <= prev["t"]:
                continue
            xs.append(cur["t"] - t0)
            ys.append(max(cur["cpu"] - prev["cpu"], 0.0) / (cur["t"] - prev["t"]) * 100)
        cpu.append(Series(f"try {try_id}", color, ys, xs))
        mem.append(
            Series(f"try {try_id}", color, [r["rss"] or 0.0 for r in rows], [r["t"] - t0 for r in rows])
        )
    return cpu, mem


@bp.route("/workflow/<run_id>/dag_<any(group_by_apps, group_by_states):group>")
def dag_view(run_id: str, group: str):
    by = "app" if group == "group_by_apps" else "state"
    limit = _int_arg("limit", DAG_LIMIT)
    with _conn() as conn:
        wf = _workflow_or_404(conn, run_id)
        fs = queries.final_states(run_id, conn.dialect.name)
        total = conn.scalar(select(func.count()).select_from(TASK).where(TASK.c.run_id == run_id)) or 0
        rows = conn.execute(
            select(TASK.c.task_id, TASK.c.task_func_name, TASK.c.task_depends, fs.c.state)
            .select_from(TASK.outerjoin(fs, fs.c.task_id == TASK.c.task_id))
            .where(TASK.c.run_id == run_id)
            .order_by(TASK.c.task_id)
            .limit(limit)
        ).all()
    nodes = {
        tid: dag.DagNode(tid, app_name, state or "unsched", queries.parse_depends(deps))
        for tid, app_name, deps, state in rows
    }
    if by == "app":
        colors = _app_colors(sorted({n.app for n in nodes.values()}))
    else:
        colors = {s: state_color(s) for s in {n.state for n in nodes.values()}}
    legend = sorted(colors.items(), key=lambda kv: (state_rank(kv[0]) if by == "state" else 0, kv[0]))
    prefix = url_for("viz.task", run_id=run_id, task_id=0)[:-1]
    svg = dag.render(nodes, colors, by=by, href=lambda tid: f"{prefix}{tid}") if nodes else None
    return _workflow_page(
        "dag.html", wf, by=by, svg=svg, legend=legend, shown=len(nodes), total=total, limit=limit
    )


@bp.route("/workflow/<run_id>/resource_usage")
def resources(run_id: str):
    with _conn() as conn:
        wf = _workflow_or_404(conn, run_id)
        colors = _app_colors(queries.app_names(conn, run_id))
        n_samples = (
            conn.scalar(select(func.count()).select_from(RESOURCE).where(RESOURCE.c.run_id == run_id)) or 0
        )
        span = timeline.workflow_span(conn, run_id)
        plots: dict[str, Any] = {}
        summary = timeline.resource_summary(conn, run_id) if n_samples else []
        if span is not None:
            ends = span.ends()
            active = timeline.active_tries_per_app(conn, run_id, span)
            running = [sum(v[i] for v in active.values()) for i in range(span.buckets)]
            workers = timeline.workers_over_time(conn, run_id, span)
            series = [Series("tasks running", "#3182bd", running, ends)]
            if workers is not None:
                series.insert(0, Series("workers connected", "#7f7f7f", workers, ends))
            plots["efficiency"] = charts.line_chart(
                "worker-efficiency", series, y_label="workers / tasks", markers=False
            )
            if n_samples:
                rspan = timeline.resource_span(conn, run_id, span)
                rends = rspan.ends()
                cpu, mem = timeline.resource_per_app(conn, run_id, rspan)
                plots["cpu"] = charts.stacked_area(
                    "cpu-per-app",
                    rends,
                    _app_series(cpu, colors),
                    y_label="CPU cores in use",
                )
                plots["memory"] = charts.stacked_area(
                    "memory-per-app",
                    rends,
                    _app_series(mem, colors),
                    y_label="resident memory",
                    y_fmt=fmt_bytes,
                )
        if n_samples:
            for key, fmt, label in (
                ("cpu", fmt_duration, "CPU time (user + system) per try"),
                ("rss", fmt_bytes, "peak resident memory per try"),
            ):
                bins = timeline.histogram(conn, run_id, key)
                plots[f"hist_{key}"] = charts.bar_chart(
                    f"hist-{key}",
                    [fmt(lo) for lo, _, _ in bins],
                    [n for _, _, n in bins],
                    width=560,
                    tips=[f"{fmt(lo)}{RANGE_DASH}{fmt(hi)}" for lo, hi, _ in bins],
                    color="#59a14f",
                    y_label="tries",
                    x_label=label,
                )
        nodes = queries.nodes(conn, run_id)
        blocks = queries.blocks(conn, run_id)
    return _workflow_page(
        "resources.html",
        wf,
        plots=plots,
        summary=summary,
        n_samples=n_samples,
        nodes=nodes,
        blocks=blocks,
        app_colors=colors,
    )
