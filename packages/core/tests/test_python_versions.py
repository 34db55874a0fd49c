"""Behaviours that differ between the Python versions parslcore supports (3.10 to 3.13).

Each test here failed on one version before its fix; docs/architecture.md ("Python versions")
lists them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
