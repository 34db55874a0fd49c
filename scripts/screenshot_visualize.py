"""Regenerate docs/images/parsl-visualize-workflow.png: the workflow page in real Chromium.

    hatch run python scripts/screenshot_visualize.py               # example database
    hatch run python scripts/screenshot_visualize.py --db sqlite:///runinfo/monitoring.db

Without --db it writes the test suite's example database (packages/monitoring/tests/
viz_fixtures.py) to a temporary directory. It starts ``parsl-visualize`` (waitress) on a free
port, opens the first workflow's page in headless Chromium (/usr/bin/chromium; install it with
``apt-get install chromium fonts-dejavu-core``) and saves a full-page screenshot.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "parsl-visualize-workflow.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"parsl-visualize exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"parsl-visualize did not listen on port {port} within {timeout} s")


def example_database(directory: Path) -> str:
    sys.path.insert(0, str(ROOT / "packages" / "monitoring" / "tests"))
    import viz_fixtures

    url = f"sqlite:///{directory / 'monitoring.db'}"
    viz_fixtures.build_database(url)
    return url


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: the example database)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"PNG to write (default: {OUT.relative_to(ROOT)})")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or example_database(Path(tmp))
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "parsl_monitoring.visualization.cli", url, "-p", str(port)],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, proc)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator("a.wf-link").last.click()
                page.wait_for_selector("svg[data-chart=gantt]")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
