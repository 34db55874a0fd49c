"""Behaviours that differ between the Python versions parslcore supports (3.10 to 3.13).

Each test here failed on one version before its fix; docs/architecture.md ("Python versions")
lists them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from parsl.dataflow.interrupts import shutdown_within

#: a workflow that is interrupted and left for atexit to clean up; an observer prints when
#: the kernel tells plugins it stopped (the last cleanup steps)
INTERRUPTED_AT_EXIT = textwrap.dedent("""
    import signal, sys
    import parsl
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor

    class Observer:
        @parsl.hookimpl
        def parsl_dfk_stopped(self, dfk):
            print("STOPPED", flush=True)

    dfk = parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=sys.argv[1], observers=[Observer()]))

    @parsl.python_app
    def one():
        return 1

    assert one().result() == 1
    print("RAN", flush=True)
    dfk._interrupts.received = signal.SIGINT  # as the SIGINT handler records it
    """)


def test_interrupted_cleanup_at_exit_runs_every_step(tmp_path):
    # Python 3.12 refuses to start a thread from an atexit handler; the interrupted cleanup
    # stops executors in parallel threads, and used to abandon its remaining steps there.
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED_AT_EXIT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "runinfo")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RAN", "STOPPED"], done.stderr


def test_shutdown_within_runs_steps_inline_when_no_thread_can_start(monkeypatch):
    import threading

    def refuse(self):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    ran = []
    late = shutdown_within([("a", lambda: ran.append("a")), ("b", lambda: ran.append("b"))], 1.0, pytest.fail)
    assert ran == ["a", "b"] and late == []


#: multiprocessing calls that use the default start method, which Python 3.14 changes from
#: fork to forkserver on Linux: our code names its context (parsl.multiprocessing) instead
IMPLICIT_START_METHOD = re.compile(
    r"\bmultiprocessing\.(Process|Pool|Queue|SimpleQueue|JoinableQueue|Event|Lock|Manager)\("
    r"|\bset_start_method\(|\bos\.fork\(|\bProcessPoolExecutor\((?![^)]*mp_context)"
)


def test_no_code_depends_on_the_default_start_method():
    root = Path(__file__).resolve().parents[3]
    sources = sorted(root.glob("packages/*/src/**/*.py")) + sorted(root.glob("examples/*/src/**/*.py"))
    assert len(sources) > 50
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if IMPLICIT_START_METHOD.search(line)
    ]
    assert not found, "use an explicit context (parsl.multiprocessing.SpawnContext):\n" + "\n".join(found)


def test_the_implicit_start_method_pattern_catches_what_it_should():
    assert IMPLICIT_START_METHOD.search("p = multiprocessing.Process(target=f)")
    assert IMPLICIT_START_METHOD.search("with ProcessPoolExecutor(4) as pool:")
    assert not IMPLICIT_START_METHOD.search("ProcessPoolExecutor(4, mp_context=SpawnContext)")
    assert not IMPLICIT_START_METHOD.search("SpawnContext.Process(target=f)")
