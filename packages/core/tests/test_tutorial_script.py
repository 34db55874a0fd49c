"""Run a tutorial-style Parsl script unchanged, in a fresh interpreter, and check its output."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "tutorial.py"
SRC = pathlib.Path(__file__).resolve().parents[1] / "src"

EXPECTED = """\
parsl version present: True
Hello World!
45
Hello World!
hello 0|hello 1|hello 2|
Done: False
Result: Hello World!
Done: True
outputs: 1 DataFuture
Hello World!
Done: True
copied: Hello World!
python pi close: True
bash+python pi close: True
total: 100
Oops! You tried to divide by 0
dependency failed: ZeroDivisionError 1
bash exit code: 3
still working: 42
fibonacci(12): 144
join failed: ZeroDivisionError
routed: fast slow
chained: 26
last: Hello World!
"""


@pytest.fixture(scope="module")
def tutorial_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tutorial")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return proc, workdir


def test_script_exits_cleanly(tutorial_run):
    proc, _ = tutorial_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_script_prints_expected_output(tutorial_run):
    proc, _ = tutorial_run
    assert proc.stdout == EXPECTED, proc.stderr


def test_script_files(tutorial_run):
    _, workdir = tutorial_run
    assert (workdir / "all_hellos.txt").read_text() == "hello 0\nhello 1\nhello 2\n"
    assert (workdir / "cat-out.txt").read_text() == "Hello World!\n"
    assert [int(x) for x in (workdir / "all.txt").read_text().split()] == [0, 10, 20, 30, 40]
    assert 'echo "Hello World!"' in (workdir / "echo-hello.stderr").read_text()
    assert len((workdir / "points-1.txt").read_text().splitlines()) == 5000


def test_script_run_directories(tutorial_run):
    _, workdir = tutorial_run
    runs = sorted(p.name for p in (workdir / "runinfo").iterdir())
    assert runs == ["000", "001", "002"]
    for run in runs:
        log = (workdir / "runinfo" / run / "parsl.log").read_text()
        assert "DataFlowKernel cleanup complete" in log or "cleanup" in log
    # the kernel left loaded at exit was cleaned up by the atexit handler
    assert "cleaning up" in (workdir / "runinfo" / "002" / "parsl.log").read_text()
