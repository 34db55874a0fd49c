"""`pytest -p parsl.testing --parsl-executor MODULE:CALLABLE` runs the conformance suite with no test file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def run_pytest(tmp_path, *args, ini="[pytest]\n"):
    (tmp_path / "pytest.ini").write_text(ini)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_the_suite_runs_against_the_named_executor(tmp_path):
    out = run_pytest(
        tmp_path, "-p", "parsl.testing", "--parsl-executor", "parsl_example_executor:SubprocessExecutor"
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "11 passed, 2 skipped" in out.stdout  # 2 lifecycle tests are for block executors


def test_the_executor_can_be_named_in_the_ini_file(tmp_path):
    ini = "[pytest]\naddopts = -p parsl.testing\nparsl_executor = parsl.executors:ThreadPoolExecutor\n"
    out = run_pytest(tmp_path, "--collect-only", ini=ini)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        "parsl.testing::TestConfiguredExecutor::test_exception_keeps_type_message_and_traceback" in out.stdout
    )
    assert "13 tests collected" in out.stdout


def test_an_executor_that_ignores_resource_specifications_fails_the_suite(tmp_path):
    (tmp_path / "lax_executor.py").write_text(
        textwrap.dedent("""
        from parsl.executors import ThreadPoolExecutor

        class LaxExecutor(ThreadPoolExecutor):
            def submit(self, func, resource_specification, *args, **kwargs):
                return super().submit(func, {}, *args, **kwargs)   # silently drops it
    """)
    )
    out = run_pytest(tmp_path, "-p", "parsl.testing", "--parsl-executor", "lax_executor:LaxExecutor")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 failed, 10 passed, 2 skipped" in out.stdout
    assert "test_unknown_resource_specification_is_rejected" in out.stdout


def test_a_bad_name_is_a_usage_error_that_says_the_fix(tmp_path):
    out = run_pytest(tmp_path, "-p", "parsl.testing", "--parsl-executor", "no_such_module_here")
    assert out.returncode == 4
    assert "use MODULE:CALLABLE" in out.stderr


def test_without_an_executor_the_plugin_adds_nothing(tmp_path):
    out = run_pytest(tmp_path, "-p", "parsl.testing", "--collect-only")
    assert out.returncode == 5, out.stdout + out.stderr  # pytest's "no tests collected"
