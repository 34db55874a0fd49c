"""The long-lived bash that runs bash apps: each command behaves as under a fresh bash -c."""

from __future__ import annotations

import os

import pytest

import parsl
from parsl import bash_app
from parsl.app.bash_runner import run_command
from parsl.app.errors import BashExitFailure
from parsl.config import Config


def _run(cmd, tmp_path, mode="w"):
    out = tmp_path / "out.txt"
    status = run_command(cmd, (str(out), mode), (str(tmp_path / "err.txt"), mode))
    return status, out.read_text(), (tmp_path / "err.txt").read_text()


def test_status_and_streams(tmp_path):
    assert _run("echo hi; echo oops >&2; exit 4", tmp_path) == (4, "hi\n", "oops\n")


def test_state_does_not_leak_between_commands(tmp_path):
    assert _run("x=leak; cd /; trap 'echo trapped' EXIT; exit 0", tmp_path)[0] == 0
    status, out, _ = _run('echo "[$x]" "$PWD"', tmp_path)
    assert (status, out) == (0, f"[] {os.getcwd()}\n")


def test_syntax_error_fails_only_that_command(tmp_path):
    status, _, err = _run('echo "unterminated', tmp_path)
    assert status == 2 and "unexpected EOF" in err
    assert _run("echo still-alive", tmp_path)[:2] == (0, "still-alive\n")


def test_environment_and_cwd_changes_are_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSL_RUNNER_PROBE", "one")
    assert _run("echo $PARSL_RUNNER_PROBE", tmp_path)[1] == "one\n"
    monkeypatch.setenv("PARSL_RUNNER_PROBE", "two")
    assert _run("echo $PARSL_RUNNER_PROBE", tmp_path)[1] == "two\n"
    monkeypatch.chdir(tmp_path)
    assert _run("pwd", tmp_path)[1] == f"{tmp_path}\n"


def test_append_mode_and_quoted_paths(tmp_path):
    odd = tmp_path / "a dir with 'quotes'" / "o u t.txt"
    odd.parent.mkdir()
    for i in range(2):
        assert run_command(f"echo {i}", (str(odd), "a+"), None) == 0
    assert odd.read_text() == "0\n1\n"


def test_stdin_is_not_the_control_pipe(tmp_path):
    # A command reading stdin must not swallow the runner's next commands.
    assert _run("cat > /dev/null; echo done", tmp_path)[:2] == (0, "done\n")
    assert _run("echo next", tmp_path)[:2] == (0, "next\n")


def test_unusual_modes_fall_back(tmp_path):
    assert run_command("true", (str(tmp_path / "x"), "r+"), None) is None


@pytest.mark.parametrize("runner", ["1", "0"])
def test_bash_apps_same_results_with_and_without_runner(tmp_path, monkeypatch, runner):
    monkeypatch.setenv("PARSL_BASH_RUNNER", runner)

    @bash_app
    def fail(code):
        return f"exit {code}"

    @bash_app
    def greet(name, stdout=None):
        return f"echo hello {name}"

    with parsl.load(Config(run_dir=str(tmp_path / "runinfo"))):
        out = tmp_path / "greet.txt"
        assert greet("ann", stdout=str(out)).result() == 0
        with pytest.raises(BashExitFailure) as e:
            fail(7).result()
        assert e.value.exitcode == 7
    assert out.read_text() == "hello ann\n"
