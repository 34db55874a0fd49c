"""parsl-visualize through Flask's test client, against a database written like the hub writes it."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import viz_fixtures as fx

pytest.importorskip("flask")

from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from parsl_monitoring.db import WORKFLOW
from parsl_monitoring.visualization import DatabaseNotFound, cli, create_app, dag
from parsl_monitoring.visualization.timeline import finished_per_app, state_counts_over_time, workflow_span

DONE = fx.Facts.done_run
RUNNING = fx.Facts.running_run


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> tuple[str, fx.Facts]:
    path = tmp_path_factory.mktemp("viz") / "monitoring.db"
    facts = fx.build_database(f"sqlite:///{path}")
    return str(path), facts


@pytest.fixture(scope="module")
def app(db):
    return create_app(f"sqlite:///{db[0]}")


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[-2000:])
    return r.get_data(as_text=True)


def row_of(html: str, marker: str) -> str:
    """The <tr> holding ``marker``."""
    m = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(marker) + r".*?</tr>", html, re.S)
    assert m, marker
    return m.group(0)


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# --- workflows list -------------------------------------------------------------------------------


def test_index_lists_every_workflow_with_status_and_counts(client):
    html = get(client, "/")
    done = cells(row_of(html, f"/workflow/{DONE}/"))
    assert done[0] == "genome-pipeline" and done[1] == "1.2" and done[3] == "alice"
    assert done[5] == "completed" and done[7] == "45 s"
    assert done[8:] == ["24", "22", "2"]  # tasks, completed, failed (from the workflow row)
    running = cells(row_of(html, f"/workflow/{RUNNING}/"))
    assert running[5] == "running" and running[7] == "\u2013"  # an en dash: not finished
    # A running workflow's counts come from its tasks: two done, none failed.
    assert running[8:] == ["3", "2", "0"]
    assert html.index(RUNNING) < html.index(DONE)  # newest first
    assert 'http-equiv="refresh"' in html  # a workflow is still running


def test_index_of_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    from sqlalchemy import create_engine

    from parsl_monitoring.db import metadata

    metadata.create_all(create_engine(url))
    html = get(create_app(url).test_client(), "/")
    assert "holds no workflow yet" in html and 'http-equiv="refresh"' not in html


# --- one workflow ---------------------------------------------------------------------------------


def test_workflow_page_summary_and_app_counts(client):
    html = get(client, f"/workflow/{DONE}/")
    assert "<h1>genome-pipeline" in html and "completed" in html
    assert 'http-equiv="refresh"' not in html
    header = re.search(r'<table class="grid" id="apps">.*?</thead>', html, re.S).group(0)
    columns = re.findall(r'class="badge"[^>]*>([a-z_]+)<', header)
    assert columns == ["exec_done", "memo_done", "failed", "dep_fail"]
    assert cells(row_of(html, ">align</a>"))[1:] == ["10", "9", "0", "1", "0"]
    assert cells(row_of(html, ">fetch</a>"))[1:] == ["10", "10", "0", "0", "0"]
    assert cells(row_of(html, ">merge</a>"))[1:] == ["1", "0", "0", "0", "1"]
    assert cells(row_of(html, ">summarize</a>"))[1:] == ["3", "2", "1", "0", "0"]
    assert f'href="/workflow/{DONE}/app/align?state=failed"' in html
    for link in ("task/", "dag_group_by_apps", "dag_group_by_states", "resource_usage", "app/fetch"):
        assert f'href="/workflow/{DONE}/{link}"' in html


def test_workflow_page_charts(client, db):
    html = get(client, f"/workflow/{DONE}/")
    for kind in ("states", "gantt", "running-per-app", "finished-per-app"):
        assert f'data-chart="{kind}"' in html
    gantt = re.search(r'<svg[^>]*data-chart="gantt".*?</svg>', html, re.S).group(0)
    rows = re.findall(r'<a href="([^"]+)" class="gantt-row">', gantt)
    assert rows == [f"/workflow/{DONE}/task/{i}" for i in range(24)]
    # Task 13 ran twice: pending, launched, running, running_ended, fail_retryable, then again.
    row13 = gantt.split('/task/13" class="gantt-row">')[1].split("</a>")[0]
    assert len(re.findall(r'class="seg"', row13)) == 10
    assert "fail_retryable" in row13
    states = re.search(r'<svg[^>]*data-chart="states".*?</svg>', html, re.S).group(0)
    assert len(re.findall(r'class="area"', states)) >= 5
    running = re.search(r'<svg[^>]*data-chart="running-per-app".*?</svg>', html, re.S).group(0)
    # merge never ran (its dependency failed), so three apps have areas
    assert re.findall(r'class="area"[^>]*><title>(\w+)</title>', running) == ["align", "fetch", "summarize"]


def test_state_counts_over_time_end_in_the_final_states(app):
    engine = app.extensions["parsl_monitoring_db"]
    with engine.connect() as conn:
        span = workflow_span(conn, DONE)
        counts = state_counts_over_time(conn, DONE, span)
        done = finished_per_app(conn, DONE, span)
    last = {s: v[-1] for s, v in counts.items() if v[-1]}
    assert last == {"exec_done": 21, "memo_done": 1, "failed": 1, "dep_fail": 1}
    assert all(v >= 0 for series in counts.values() for v in series)
    # Halfway (22.5 s), the fetch tasks are done and some aligns still run.
    mid = span.buckets // 2
    assert counts["running"][mid] > 0 and counts["exec_done"][mid] >= 10
    assert {a: v[-1] for a, v in done.items()} == {"fetch": 10, "align": 10, "merge": 1, "summarize": 3}


def test_running_workflow_refreshes_and_unfinished_tasks_extend_to_now(client):
    html = get(client, f"/workflow/{RUNNING}/")
    assert cells(row_of(html, ">wait</a>"))[1:] == ["2", "1", "1"]  # tasks, exec_done, running
    assert re.search(r'<meta http-equiv="refresh" content="10">', html)
    assert "Running for" in html
    for page in ("task/", "task/2", "dag_group_by_apps", "resource_usage"):
        assert 'http-equiv="refresh"' in get(client, f"/workflow/{RUNNING}/{page}"), page
    # a finished task of a running workflow does not need reloading
    assert 'http-equiv="refresh"' not in get(client, f"/workflow/{RUNNING}/task/1")


def test_gantt_is_paginated(tmp_path):
    url = f"sqlite:///{tmp_path / 'big.db'}"
    fx.add_large_workflow(url, "big", n_tasks=450)
    client = create_app(url).test_client()
    html = get(client, "/workflow/big/?gantt_page=3")
    rows = re.findall(r'/workflow/big/task/(\d+)" class="gantt-row"', html)
    assert [int(r) for r in rows] == list(range(400, 450))
    assert "page 3 of 3" in html and 'rel="prev" href="/workflow/big/?gantt_page=2"' in html
    first = get(client, "/workflow/big/")
    assert len(re.findall(r'class="gantt-row"', first)) == 200 and 'rel="next"' in first


# --- task lists -----------------------------------------------------------------------------------


def test_app_page_lists_its_tasks_and_filters_by_state(client):
    html = get(client, f"/workflow/{DONE}/app/align")
    ids = re.findall(r'class="task-link" href="[^"]+">(\d+)<', html)
    assert ids == [str(i) for i in range(10, 20)]
    assert 'data-chart="durations"' in html and len(re.findall(r'class="bar"', html)) == 20
    r13 = cells(row_of(html, '/task/13"'))
    assert r13[:5] == ["13", "exec_done", "htex", "node02", "2"]
    failed = get(client, f"/workflow/{DONE}/app/align?state=failed")
    assert re.findall(r'class="task-link" href="[^"]+">(\d+)<', failed) == ["15"]
    assert "1 task in state" in failed


def test_all_tasks_page(client):
    html = get(client, f"/workflow/{DONE}/task/")
    assert len(re.findall(r'class="task-link"', html)) == 24
    assert "24 tasks" in html
    assert cells(row_of(html, '/task/20"'))[:3] == ["20", "merge", "dep_fail"]
    memo = get(client, f"/workflow/{DONE}/task/?state=memo_done")
    assert re.findall(r'class="task-link" href="[^"]+">(\d+)<', memo) == ["23"]


# --- one task -------------------------------------------------------------------------------------


def test_task_page_details(client):
    html = get(client, f"/workflow/{DONE}/task/13")
    assert "Task 13" in html and ">exec_done<" in html
    assert re.search(r"<th>Executor</th><td>htex</td>", html)
    assert re.search(r"<th>Host</th><td>node02</td>", html)
    assert "/home/alice/runinfo/000/task_13.out" in html
    deps = re.search(r'<td colspan="3" id="depends">(.*?)</td>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', deps) == [f"/workflow/{DONE}/task/3"]
    needed = re.search(r'<td colspan="3" id="dependents">(.*?)</td>', html, re.S).group(1)
    assert re.findall(r'href="[^"]+/task/(\d+)"', needed) == ["20"]
    tries = re.search(r'<table class="grid" id="tries">.*?</table>', html, re.S).group(0)
    assert "ValueError(&#39;bad input in try 0&#39;)" in tries
    assert len(re.findall(r'<td class="num">[01]</td><td>htex</td>', tries)) == 2
    history = re.search(r'<table class="grid" id="states">.*?</table>', html, re.S).group(0)
    assert re.findall(r'class="badge"[^>]*>(\w+)<', history) == [
        "pending",
        "launched",
        "running",
        "running_ended",
        "fail_retryable",
        "pending",
        "launched",
        "running",
        "running_ended",
        "exec_done",
    ]
    for kind in ("task-cpu", "task-memory"):
        chart = re.search(rf'<svg[^>]*data-chart="{kind}".*?</svg>', html, re.S).group(0)
        assert len(re.findall(r'class="line"', chart)) == 2  # one line per try


def test_task_page_of_a_dependency_failure_links_every_dependency(client):
    html = get(client, f"/workflow/{DONE}/task/20")
    deps = re.search(r'<td colspan="3" id="depends">(.*?)</td>', html, re.S).group(1)
    assert re.findall(r'/task/(\d+)"', deps) == [str(i) for i in range(10, 20)]
    assert ">dep_fail<" in html and "Not launched yet" in html and "No resource samples" in html


# --- dependency graph -----------------------------------------------------------------------------


def test_dag_by_apps(client):
    html = get(client, f"/workflow/{DONE}/dag_group_by_apps")
    svg = re.search(r'<svg class="dag".*?</svg>', html, re.S).group(0)
    nodes = re.findall(r'<circle class="node" data-task="(\d+)"[^>]*fill="([^"]+)"', svg)
    assert sorted(int(t) for t, _ in nodes) == list(range(24))
    color = dict(nodes)
    assert len({color[str(i)] for i in range(10)}) == 1  # all fetch tasks share a colour
    assert color["0"] != color["10"] != color["20"]
    assert len(re.findall(r'class="edge"', svg)) == 10 + 10 + 2 + 1 + 1
    assert f'href="/workflow/{DONE}/task/7"' in svg
    legend = re.search(r'id="dag-legend">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"</span>(\w+)</li>", legend) == ["align", "fetch", "merge", "summarize"]


def test_dag_by_states(client):
    html = get(client, f"/workflow/{DONE}/dag_group_by_states")
    nodes = dict(re.findall(r'<circle class="node" data-task="(\d+)"[^>]*fill="([^"]+)"', html))
    assert nodes["15"] == "#d62728" and nodes["20"] == "#ff7f0e" and nodes["0"] == "#2ca02c"
    legend = re.search(r'id="dag-legend">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"</span>(\w+)</li>", legend) == ["exec_done", "memo_done", "failed", "dep_fail"]


def test_dag_layout_layers_follow_dependencies():
    nodes = {
        i: dag.DagNode(i, "a", "exec_done", deps)
        for i, deps in {0: [], 1: [], 2: [0], 3: [0, 1], 4: [2, 3], 5: [4, 0], 6: []}.items()
    }
    width, height = dag.layout(nodes)
    assert [nodes[i].layer for i in range(7)] == [0, 0, 1, 1, 2, 3, 0]
    for n in nodes.values():
        for d in n.depends:
            assert nodes[d].y < n.y
        assert 0 < n.x < width and 0 < n.y < height
    assert len({(n.x, n.y) for n in nodes.values()}) == 7  # no two tasks on one spot


def test_dag_layout_wraps_wide_layers():
    nodes = {i: dag.DagNode(i, "a", "pending", []) for i in range(100)}
    width, _ = dag.layout(nodes)
    assert len({n.y for n in nodes.values()}) == 3  # 40 + 40 + 20
    assert width < 50 * dag.DX


def test_dag_is_limited_for_large_workflows(tmp_path):
    url = f"sqlite:///{tmp_path / 'big.db'}"
    fx.add_large_workflow(url, "big", n_tasks=300)
    html = get(create_app(url).test_client(), "/workflow/big/dag_group_by_apps?limit=120")
    assert len(re.findall(r'class="node"', html)) == 120
    assert "first 120 of 300" in html and 'href="/workflow/big/dag_group_by_apps?limit=300"' in html


# --- resources ------------------------------------------------------------------------------------


def test_resource_page(client):
    html = get(client, f"/workflow/{DONE}/resource_usage")
    summary = re.search(r'id="resource-summary">.*?</table>', html, re.S).group(0)
    align = cells(row_of(summary, ">align</a>"))
    assert align[1] == "12"  # ten tasks, two of them tried twice
    assert [cells(row_of(summary, f">{a}</a>"))[1] for a in ("fetch", "summarize")] == ["10", "2"]
    assert "merge" not in summary  # never ran
    for kind in ("worker-efficiency", "cpu-per-app", "memory-per-app", "hist-cpu", "hist-rss"):
        assert f'data-chart="{kind}"' in html, kind
    eff = re.search(r'<svg[^>]*data-chart="worker-efficiency".*?</svg>', html, re.S).group(0)
    assert re.findall(r'class="line"[^>]*><title>([\w ]+)</title>', eff) == [
        "workers connected",
        "tasks running",
    ]
    hist = re.search(r'<svg[^>]*data-chart="hist-cpu".*?</svg>', html, re.S).group(0)
    assert sum(int(n) for n in re.findall(r": (\d+)</title></rect>", hist)) == 24  # every sampled try
    nodes = re.search(r'id="nodes">.*?</table>', html, re.S).group(0)
    assert len(re.findall(r"<tr><td>", nodes)) == 4
    blocks = re.search(r'id="blocks">.*?</table>', html, re.S).group(0)
    assert [c[4] for c in map(cells, re.findall(r"<tr><td>.*?</tr>", blocks, re.S))] == [
        "PENDING",
        "PENDING",
        "RUNNING",
        "RUNNING",
        "COMPLETED",
        "COMPLETED",
    ]


def test_resource_page_without_samples(client):
    html = get(client, f"/workflow/{RUNNING}/resource_usage")
    assert 'id="no-resources"' in html and "no worker pool reported" in html
    assert 'data-chart="worker-efficiency"' in html


# --- errors and escaping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/workflow/no-such-run/",
        "/workflow/no-such-run/task/",
        "/workflow/no-such-run/task/1",
        "/workflow/no-such-run/app/fetch",
        "/workflow/no-such-run/dag_group_by_apps",
        "/workflow/no-such-run/resource_usage",
        f"/workflow/{DONE}/task/9999",
        f"/workflow/{DONE}/task/abc",
        f"/workflow/{DONE}/app/no_such_app",
        f"/workflow/{DONE}/dag_group_by_nothing",
        "/nowhere",
    ],
)
def test_unknown_ids_are_404_pages(client, url):
    html = get(client, url, 404)
    assert "<h1>404 · Not Found</h1>" in html and 'href="/"' in html


def test_404_names_the_missing_thing_escaped(client):
    html = get(client, "/workflow/%3Cimg%20src=x%20onerror=alert(1)%3E/", 404)
    assert "<img" not in html
    assert "There is no workflow with run id &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in html
    assert "has no task 9999" in get(client, f"/workflow/{DONE}/task/9999", 404)


def test_everything_from_the_database_is_escaped(client):
    app_url = f"/workflow/{RUNNING}/app/%3Cb%3Ebold_app%3C%2Fb%3E"
    pages = [
        "/",
        f"/workflow/{RUNNING}/",
        f"/workflow/{RUNNING}/task/",
        f"/workflow/{RUNNING}/task/0",
        f"/workflow/{RUNNING}/dag_group_by_apps",
        f"/workflow/{RUNNING}/dag_group_by_states",
        f"/workflow/{RUNNING}/resource_usage",
        app_url,
    ]
    for url in pages:
        html = get(client, url)
        assert fx.EVIL not in html and "<b>bold_app</b>" not in html and "<img" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or url == app_url, url
    task = get(client, f"/workflow/{RUNNING}/task/0")
    assert "/tmp/out&lt;img src=x onerror=alert(2)&gt;.txt" in task
    assert "&lt;b&gt;bold_app&lt;/b&gt;" in get(client, app_url)
    assert f'href="/workflow/{RUNNING}/app/%3Cb%3Ebold_app%3C/b%3E"' in get(client, f"/workflow/{RUNNING}/")


# --- opening the database -------------------------------------------------------------------------


def test_missing_database_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "runinfo" / "monitoring.db"
    with pytest.raises(DatabaseNotFound, match=r"no monitoring database at .*runinfo/monitoring\.db"):
        create_app(f"sqlite:///{missing}")
    assert not missing.exists()  # opening read-only did not create it


def test_database_without_tables_is_a_clear_error(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table t (x)").connection.close()
    with pytest.raises(DatabaseNotFound, match="not a Parsl monitoring database"):
        create_app(str(path))


def test_database_is_opened_read_only(app):
    engine = app.extensions["parsl_monitoring_db"]
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
        conn.execute(insert(WORKFLOW), [fx.workflow_row("x", "x", 0, 1)])


def test_plain_path_works_like_a_url(db):
    html = get(create_app(db[0]).test_client(), "/")
    assert "genome-pipeline" in html


def test_cli_reports_a_missing_database(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nope.db"), "-p", "0"]) == 1
    err = capsys.readouterr().err
    assert "parsl-visualize: no monitoring database at" in err and "nope.db" in err


def test_cli_defaults_match_parsl():
    args = cli._parser().parse_args([])
    assert (args.db_url, args.port, args.listen, args.debug) == (
        "sqlite:///./runinfo/monitoring.db",
        8080,
        "127.0.0.1",
        False,
    )
    args = cli._parser().parse_args(["postgresql://u@h/db", "-p", "9000", "-l", "0.0.0.0", "--debug"])
    assert (args.db_url, args.port, args.listen, args.debug) == ("postgresql://u@h/db", 9000, "0.0.0.0", True)


# --- live workflows, cached finished ones, size --------------------------------------------------


def test_running_workflow_pages_show_new_rows_and_finished_ones_are_cached(tmp_path):
    from sqlalchemy import create_engine, update

    from parsl_monitoring.db import STATUS, TASK

    url = f"sqlite:///{tmp_path / 'live.db'}"
    fx.build_database(url)
    app = create_app(url)
    client = app.test_client()
    assert ">running<" in get(client, f"/workflow/{RUNNING}/task/2")
    get(client, f"/workflow/{DONE}/task/13")
    writer = create_engine(url)  # the hub, still writing
    with writer.begin() as conn:
        conn.execute(
            insert(STATUS),
            [dict(task_id=2, run_id=RUNNING, try_id=0, task_status_name="exec_done", timestamp=fx.at(106))],
        )
        conn.execute(
            update(TASK).where(TASK.c.task_id == 13, TASK.c.run_id == DONE).values(task_func_name="renamed")
        )
    assert ">exec_done<" in get(client, f"/workflow/{RUNNING}/task/2")
    # The finished workflow's page was kept: it never changes once the workflow completed.
    assert "renamed" not in get(client, f"/workflow/{DONE}/task/13")
    assert "renamed" in get(create_app(url, cache_bytes=0).test_client(), f"/workflow/{DONE}/task/13")
    writer.dispose()


def test_page_cache_is_bounded():
    from parsl_monitoring.visualization.page_cache import PageCache

    cache = PageCache(budget=1000)
    for i in range(10):
        cache.put(f"/p{i}", b"x" * 200)
    assert len(cache) == 5 and cache.get("/p0") is None and cache.get("/p9") == b"x" * 200
    cache.put("/huge", b"x" * 600)  # more than a quarter of the budget: not kept
    assert cache.get("/huge") is None


@pytest.mark.slow
def test_ten_thousand_tasks_stay_responsive(tmp_path):
    import time

    url = f"sqlite:///{tmp_path / 'large.db'}"
    fx.add_large_workflow(url, "large", n_tasks=10_000)
    client = create_app(url, cache_bytes=0).test_client()
    timings = {}
    pages = {
        "/workflow/large/": 200,
        "/workflow/large/?gantt_page=50": 200,
        "/workflow/large/task/": 100,
        "/workflow/large/task/?page=100": 100,
        "/workflow/large/task/?state=failed": 11,
        "/workflow/large/app/prep": 100,
        "/workflow/large/task/5000": None,
        "/workflow/large/dag_group_by_states": None,
        "/workflow/large/resource_usage": None,
    }
    for url_, rows in pages.items():
        t = time.perf_counter()
        html = get(client, url_)
        timings[url_] = time.perf_counter() - t
        if "task/" in url_ or "app/" in url_:
            if rows is not None:
                assert len(re.findall(r'class="task-link"', html)) == rows, url_
        elif rows is not None:
            assert len(re.findall(r'class="gantt-row"', html)) == rows, url_
    assert "page 100 of 100" in get(client, "/workflow/large/task/?page=100")
    dag_html = get(client, "/workflow/large/dag_group_by_states")
    assert len(re.findall(r'class="node"', dag_html)) == 2000 and "first 2,000 of 10,000" in dag_html
    # Only a guard against a page that walks every task in Python (minutes at this size); its
    # speed is not measured here (pages take well under a second on a quiet machine, and a loaded
    # CI machine must not fail this test).
    assert max(timings.values()) < 30, timings


@pytest.mark.parametrize("dialect", ["sqlite", ""])  # SQLite's GROUP BY path, and the window function
def test_current_state_prefers_final_states_then_latest_then_later_in_life(tmp_path, dialect):
    from sqlalchemy import create_engine, select

    from parsl_monitoring.db import STATUS, metadata
    from parsl_monitoring.visualization.queries import final_states

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    metadata.create_all(engine)
    history = {
        1: [
            ("pending", 0),
            ("launched", 1),
            ("running", 2),
            ("exec_done", 3),
            ("running_ended", 4),
        ],  # the worker's clock runs ahead
        2: [("pending", 0), ("launched", 0)],  # same microsecond
        3: [("pending", 0), ("launched", 1), ("fail_retryable", 2), ("pending", 3), ("launched", 4)],
        4: [("pending", 0), ("dep_fail", 0)],
        5: [("launched", 5), ("pending", 1)],  # rows arrive in any order
    }
    with engine.begin() as conn:
        conn.execute(
            insert(STATUS),
            [
                dict(task_id=t, task_status_name=s, timestamp=fx.at(ts), run_id="r", try_id=0)
                for t, rows in history.items()
                for s, ts in rows
            ],
        )
    with engine.connect() as conn:
        fs = final_states("r", dialect)
        got = dict(conn.execute(select(fs.c.task_id, fs.c.state)).all())
        assert got == {1: "exec_done", 2: "launched", 3: "launched", 4: "dep_fail", 5: "launched"}
        one = final_states("r", dialect, [3])
        assert conn.execute(select(one.c.task_id, one.c.state)).all() == [(3, "launched")]
