"""Launcher output is real bash: run it and check what it does."""

from __future__ import annotations

import logging
import subprocess

import pytest

from parsl.launchers import Launcher, SimpleLauncher, SingleNodeLauncher
from parsl.launchers.errors import BadLauncher


def run(script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=20)


def test_simple_launcher_returns_command_unchanged(caplog):
    launcher = SimpleLauncher()
    assert launcher("echo hi", 4, 1) == "echo hi"
    with caplog.at_level(logging.WARNING):
        assert launcher("echo hi", 1, 3) == "echo hi"
    assert "3" in caplog.text and "nodes" in caplog.text
    assert repr(launcher) == "SimpleLauncher(debug=True)"


def test_single_node_launcher_runs_all_copies(tmp_path):
    script = SingleNodeLauncher(debug=False)('echo "worker $1 cores $CORES" > out.$1', 2, 2)
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    outputs = sorted(p.name for p in tmp_path.iterdir())
    assert outputs == ["out.1", "out.2", "out.3", "out.4"]
    words = (tmp_path / "out.3").read_text().split()
    assert words[:3] == ["worker", "3", "cores"] and int(words[3]) >= 1
    assert result.stdout == ""


def test_single_node_launcher_runs_copies_in_parallel(tmp_path):
    # Each copy waits until all three have started: only possible if they run concurrently.
    cmd = (
        "touch started.$1; for i in $(seq 100); do "
        "[ $(ls started.* | wc -l) -ge 3 ] && exit 0; sleep 0.05; done; exit 1"
    )
    result = run(SingleNodeLauncher(debug=False)(cmd, 3, 1), tmp_path)
    assert result.returncode == 0


def test_single_node_launcher_debug_output(tmp_path):
    result = run(SingleNodeLauncher()("true", 2, 1), tmp_path)
    assert result.returncode == 0
    assert "Found cores" in result.stdout
    assert "Launching worker: 2" in result.stdout
    assert "All workers done" in result.stdout


@pytest.mark.parametrize(
    "fail_on_any, command, expected",
    [
        (False, "exit 3", 1),  # all failed
        (False, '[ "$1" = 1 ] && exit 3; exit 0', 0),  # one failed, not all
        (True, '[ "$1" = 1 ] && exit 3; exit 0', 1),  # fail_on_any: one failure is enough
        (True, "exit 0", 0),
    ],
)
def test_single_node_launcher_exit_codes(tmp_path, fail_on_any, command, expected):
    script = SingleNodeLauncher(debug=False, fail_on_any=fail_on_any)(command, 3, 1)
    assert run(script, tmp_path).returncode == expected


def test_single_node_launcher_multiline_command(tmp_path):
    command = "A=1\nB=2\necho $((A + B)) > sum.$1"
    assert run(SingleNodeLauncher(debug=False)(command, 1, 1), tmp_path).returncode == 0
    assert (tmp_path / "sum.1").read_text() == "3\n"


def test_launcher_is_abstract_and_representable():
    with pytest.raises(TypeError):
        Launcher()  # type: ignore[abstract]
    assert repr(SingleNodeLauncher(fail_on_any=True)) == "SingleNodeLauncher(debug=True, fail_on_any=True)"

    class Custom(Launcher):
        def __call__(self, command, tasks_per_node, nodes_per_block):
            return f"time {command}"

    assert Custom(debug=False)("ls", 1, 1) == "time ls"


def test_bad_launcher_error():
    err = BadLauncher("srun", "not callable")
    assert isinstance(err, TypeError)
    assert "srun" in str(err) and "not callable" in str(err)
    assert "Launcher" in str(BadLauncher(42))
