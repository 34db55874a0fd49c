"""Shutdown: prompt with tasks in flight, no orphan processes, even without cleanup()."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from parsl import python_app


@python_app
def slow_square(x, delay=0.3):
    import time

    time.sleep(delay)
    return x * x


def test_cleanup_with_tasks_in_flight_is_prompt_and_leaves_no_processes(tmp_path, htex_tools):
    import parsl

    before = htex_tools.processes()
    dfk = parsl.load(htex_tools.make_config(str(tmp_path / "runinfo")))
    futures = [slow_square(i, 30) for i in range(4)]
    time.sleep(1)
    started = time.monotonic()
    dfk.cleanup()
    assert time.monotonic() - started < 10
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)
    assert all(f.done() for f in futures)


@pytest.mark.slow
def test_script_that_never_cleans_up_exits_promptly(tmp_path, htex_tools):
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(f"""
        import parsl
        from parsl import python_app
        from parsl.config import Config
        from parsl.providers import LocalProvider
        from parsl_executor_htex import HighThroughputExecutor

        @python_app
        def nap():
            import time
            time.sleep(60)

        parsl.load(Config(executors=[HighThroughputExecutor(max_workers_per_node=1,
                   provider=LocalProvider(init_blocks=1))], run_dir={str(tmp_path / "runinfo")!r}))
        f = nap()
        import time
        time.sleep(1.5)
        print("done", flush=True)
    """)
    )
    before = htex_tools.processes()
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout
    assert time.monotonic() - started < 20
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_htex_workflow_exits_promptly_without_orphans(tmp_path, htex_tools, sig):
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(f"""
        import parsl
        from parsl import python_app
        from parsl.config import Config
        from parsl.providers import LocalProvider
        from parsl_executor_htex import HighThroughputExecutor

        @python_app
        def nap():
            import time
            time.sleep(60)

        with parsl.load(Config(executors=[HighThroughputExecutor(max_workers_per_node=2,
                        provider=LocalProvider(init_blocks=1))], run_dir={str(tmp_path / "runinfo")!r})):
            futures = [nap() for _ in range(4)]
            print("running", flush=True)
            [f.result() for f in futures]
    """)
    )
    before = htex_tools.processes()
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert proc.stdout.readline().strip() == "running"
    time.sleep(1.5)  # let the pool pick the tasks up
    started = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode != 0
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "orphan HTEX processes"
