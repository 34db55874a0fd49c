"""parsl-visualize in real headless Chromium (Playwright), served by the real command (waitress).

Chromium comes from Debian (/usr/bin/chromium, installed by .ci/setup.d/50-chromium.sh); these
tests never download a browser. Without Chromium they are skipped, except under CI where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import viz_fixtures as fx

pytestmark = pytest.mark.infra

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DONE, RUNNING = fx.Facts.done_run, fx.Facts.running_run


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: .ci/setup.d/50-chromium.sh should have installed it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("parsl-visualize")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "parsl_monitoring.visualization.cli"]  # pragma: no cover


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``parsl-visualize DB -p PORT --refresh 2`` as a subprocess; yields its base URL."""
    path = tmp_path_factory.mktemp("viz-browser") / "monitoring.db"
    fx.build_database(f"sqlite:///{path}")
    port = _free_port()
    log = path.with_suffix(".log").open("w+")
    proc = subprocess.Popen(
        _command() + [f"sqlite:///{path}", "-p", str(port), "--refresh", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                pytest.fail(f"parsl-visualize did not start:\n{log.read()}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
    log.close()


class Watched:
    """A page that records console errors, uncaught exceptions, failed requests and dialogs."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        # A reload cancels the requests still in flight (net::ERR_ABORTED); any other failure counts.
        page.on(
            "requestfailed",
            lambda r: (
                "ERR_ABORTED" not in (r.failure or "")
                and self.errors.append(f"requestfailed: {r.url} {r.failure}")
            ),
        )
        page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, url: str, status: int = 200):
        response = self.page.goto(url)
        assert response is not None and response.status == status, (url, response and response.status)
        return response


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    yield watched
    context.close()
    assert watched.errors == []
    assert watched.dialogs == []


def box(locator) -> dict:
    b = locator.bounding_box()
    assert b is not None, locator
    return b


def assert_drawn(locator, min_width: float = 50, min_height: float = 20) -> None:
    b = box(locator)
    assert b["width"] >= min_width and b["height"] >= min_height, b


def test_click_from_the_workflow_list_to_a_task(page, server):
    response = page.goto(server + "/")
    assert response.headers["server"] == "parsl-visualize"  # waitress, not Flask's dev server
    p = page.page
    assert p.locator("#workflows tbody tr").count() == 2
    # The stylesheet is served by the package itself (no network).
    assert p.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(23, 50, 77)"
    p.get_by_role("link", name="genome-pipeline").click()
    p.wait_for_url(f"{server}/workflow/{DONE}/")
    for kind in ("states", "gantt", "running-per-app", "finished-per-app"):
        assert_drawn(p.locator(f"svg[data-chart={kind}]"), 600, 150)
    rows = p.locator("svg[data-chart=gantt] a.gantt-row")
    assert rows.count() == 24
    assert_drawn(rows.nth(13).locator("rect.seg").nth(2), 5, 5)  # task 13's first run
    assert p.locator("svg[data-chart=states] polygon.area").count() >= 5
    rows.nth(13).locator("rect.seg").nth(2).click()
    p.wait_for_url(f"{server}/workflow/{DONE}/task/13")
    assert p.locator("h1").inner_text().startswith("Task 13")
    assert p.locator("#tries tbody tr").count() == 3  # two tries and the first one's failure
    for kind in ("task-cpu", "task-memory"):
        lines = p.locator(f"svg[data-chart={kind}] polyline.line")
        assert lines.count() == 2
        assert_drawn(lines.first, 20, 5)
    p.locator("#depends a").click()
    p.wait_for_url(f"{server}/workflow/{DONE}/task/3")
    assert p.locator("#dependents a").all_inner_texts() == ["13"]


@pytest.mark.parametrize(
    "path,charts",
    [
        (f"/workflow/{DONE}/task/", 0),
        (f"/workflow/{DONE}/app/align", 1),
        (f"/workflow/{DONE}/resource_usage", 5),
        (f"/workflow/{RUNNING}/", 4),
        (f"/workflow/{RUNNING}/task/0", 0),
    ],
)
def test_pages_render_their_charts_without_errors(page, server, path, charts):
    page.goto(server + path)
    p = page.page
    assert p.locator("svg.chart").count() == charts
    for i in range(charts):
        assert_drawn(p.locator("svg.chart").nth(i))


def test_histogram_bars(page, server):
    page.goto(f"{server}/workflow/{DONE}/app/align")
    bars = page.page.locator("svg[data-chart=durations] rect.bar")
    assert bars.count() == 20
    heights = [b["height"] for b in (bars.nth(i).bounding_box() for i in range(20))]
    assert sum(1 for h in heights if h > 0) >= 3 and max(heights) > 50


def test_dependency_graph_nodes_link_to_tasks(page, server):
    page.goto(f"{server}/workflow/{DONE}/dag_group_by_states")
    p = page.page
    nodes = p.locator("svg.dag circle.node")
    assert nodes.count() == 24
    for i in range(0, 24, 6):
        assert_drawn(nodes.nth(i), 10, 10)
    assert p.locator("svg.dag path.edge").count() == 24
    assert p.locator("circle.node[data-task='15']").get_attribute("fill") == "#d62728"
    p.locator("circle.node[data-task='20']").click()
    p.wait_for_url(f"{server}/workflow/{DONE}/task/20")
    assert "dep_fail" in p.locator("h1").inner_text()


def test_unknown_ids_get_the_404_page(page, server):
    page.goto(f"{server}/workflow/{DONE}/task/424242", status=404)
    assert page.page.locator("h1").inner_text() == "404 · Not Found"
    assert "has no task 424242" in page.page.locator("main").inner_text()
    # Chromium logs "Failed to load resource: ... 404" for the page itself; nothing else may fail.
    assert [e for e in page.errors if "404" in e]
    page.errors[:] = [e for e in page.errors if "404" not in e]


def test_running_workflow_reloads_itself_and_finished_one_does_not(page, server):
    p = page.page
    page.goto(f"{server}/workflow/{RUNNING}/")
    assert "reloads every 2 s" in p.locator(".live").inner_text()
    p.evaluate("window.__marker = 1")
    with p.expect_navigation(timeout=10_000):
        pass
    assert p.evaluate("window.__marker") is None
    page.goto(f"{server}/workflow/{DONE}/")
    p.evaluate("window.__marker = 1")
    p.wait_for_timeout(3000)
    assert p.evaluate("window.__marker") == 1


def test_html_in_names_is_shown_as_text(page, server):
    p = page.page
    page.goto(server + "/")
    assert p.get_by_role("link", name=fx.EVIL, exact=True).count() == 1
    page.goto(f"{server}/workflow/{RUNNING}/")
    assert fx.EVIL in p.locator("h1").inner_text()
    assert p.locator("main script, main b, main img").count() == 0
    p.get_by_role("link", name=fx.EVIL_APP, exact=True).click()
    p.wait_for_url(re.compile(r".*/app/.*"))
    assert fx.EVIL_APP in p.locator("h1").inner_text()
    p.locator("a.task-link").first.click()
    assert fx.EVIL_PATH in p.locator("#task-facts").inner_text()
    assert page.dialogs == []


def test_parsl_visualize_is_on_path_for_the_environment():
    assert shutil.which("parsl-visualize", path=str(Path(sys.executable).parent))
