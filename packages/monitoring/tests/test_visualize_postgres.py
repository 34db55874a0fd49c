"""parsl-visualize on PostgreSQL: every page shows what it shows for the same rows in SQLite."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import viz_fixtures as fx

pytest.importorskip("flask")

import sqlalchemy as sa

from parsl_monitoring.visualization import create_app

pytestmark = pytest.mark.infra

DONE, RUNNING = fx.Facts.done_run, fx.Facts.running_run
PAGES = [
    "/",
    f"/workflow/{DONE}/",
    f"/workflow/{DONE}/task/",
    f"/workflow/{DONE}/task/?state=failed",
    f"/workflow/{DONE}/app/align",
    f"/workflow/{DONE}/task/13",
    f"/workflow/{DONE}/task/20",
    f"/workflow/{DONE}/dag_group_by_apps",
    f"/workflow/{DONE}/dag_group_by_states",
    f"/workflow/{DONE}/resource_usage",
    f"/workflow/{RUNNING}/",
    f"/workflow/{RUNNING}/task/2",
]


@pytest.fixture
def fresh_postgres(postgres_url):
    """A new, empty database next to the shared one, dropped afterwards."""
    name = f"parsl_viz_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    sa.create_engine(url).dispose()
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _chart_signature(m: re.Match) -> str:
    """A chart reduced to its kind and what it draws: an event exactly on a bucket boundary
    may fall either side of it depending on the database's float arithmetic."""
    svg = m.group(0)
    kind = re.search(r'data-chart="([^"]+)"', svg).group(1)
    drawn = {k: len(re.findall(rf'class="{k}"', svg)) for k in ("area", "line", "seg", "bar", "node", "edge")}
    legend = re.findall(r"</span>([^<]*)</li>", svg)
    return f"<chart {kind} {drawn} {legend}>"


def _comparable(html: str) -> str:
    html = re.sub(r'<span class="db"[^>]*>.*?</span>', "", html)
    html = re.sub(r'Running for</span><span class="v">[^<]*', "", html)  # measured against now
    return re.sub(r'<figure class="plot">.*?</figure>', _chart_signature, html, flags=re.S)


def test_every_page_matches_sqlite(fresh_postgres, tmp_path):
    fx.build_database(fresh_postgres)
    sqlite_url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    fx.build_database(sqlite_url)
    pg = create_app(fresh_postgres, cache_bytes=0).test_client()
    lite = create_app(sqlite_url, cache_bytes=0).test_client()
    for page in PAGES:
        a, b = pg.get(page), lite.get(page)
        assert a.status_code == b.status_code == 200, page
        assert _comparable(a.get_data(as_text=True)) == _comparable(b.get_data(as_text=True)), page
    assert pg.get(f"/workflow/{DONE}/task/999").status_code == 404


def test_postgres_is_opened_read_only(fresh_postgres):
    from sqlalchemy.exc import DBAPIError

    from parsl_monitoring.db import WORKFLOW

    fx.build_database(fresh_postgres)
    engine = create_app(fresh_postgres).extensions["parsl_monitoring_db"]
    with pytest.raises(DBAPIError, match="read-only transaction"), engine.begin() as conn:
        conn.execute(sa.insert(WORKFLOW), [fx.workflow_row("x", "x", 0, 1)])
