"""Launchers keep Parsl's calling convention and the texts its users and tests look for.

Every launcher takes ``script_dir`` (the fourth argument providers pass), writes its command
file there (``SCRIPT_DIR``, falling back to the working directory), and WrappedLauncher
warns in words that name what it ignores.
"""

from __future__ import annotations

import logging
import os
import subprocess

import pytest

from parsl.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SingleNodeLauncher,
    SrunLauncher,
    SrunMPILauncher,
    WrappedLauncher,
)
from parsl.launchers.errors import BadLauncher

ALL = [
    SimpleLauncher,
    SingleNodeLauncher,
    GnuParallelLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SrunLauncher,
    SrunMPILauncher,
    AprunLauncher,
    JsrunLauncher,
]
FILE_WRITERS = ALL[2:]


def test_wrapped_launcher_warns_about_tasks_per_node_and_nodes_per_block(caplog):
    w = WrappedLauncher("docker run img")
    with caplog.at_level(logging.WARNING):
        assert w("cmd", 1, 1) == "docker run img cmd"
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING):
        w("cmd", 2, 3)
    assert "tasks per node" in caplog.text and "nodes per block" in caplog.text


@pytest.mark.parametrize("cls", ALL)
def test_every_launcher_takes_script_dir(cls, tmp_path):
    launcher = cls()
    by_position = launcher("echo hi", 1, 1, str(tmp_path))
    by_keyword = launcher(command="echo hi", tasks_per_node=1, nodes_per_block=1, script_dir=str(tmp_path))
    assert by_position == by_keyword
    assert subprocess.run(["bash", "-n"], input=by_position, text=True, capture_output=True).returncode == 0


@pytest.mark.parametrize("cls", FILE_WRITERS)
def test_command_file_goes_to_script_dir(cls, tmp_path):
    script = cls()("echo hi", 1, 1, str(tmp_path / "scripts"))
    assert f'SCRIPT_DIR="{tmp_path / "scripts"}"' in script
    assert '[[ -d $SCRIPT_DIR ]] || SCRIPT_DIR=""' in script and "${SCRIPT_DIR:+$SCRIPT_DIR/}" in script
    assert 'SCRIPT_DIR=""' in cls()("echo hi", 1, 1, "")


def _write_part(script: str) -> str:
    """The lines of a launcher script up to writing its command file (nothing is launched)."""
    lines = script.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("chmod"))
    return "\n".join(lines[: end + 1]) + '\necho "$CMDFILE"\n'


@pytest.mark.parametrize(
    "given, env_dir, expect",
    [
        ("scripts", "", "scripts"),  # script_dir given: used
        ("", "envdir", "envdir"),  # else $PARSL_SCRIPT_DIR (this package's providers set it)
        ("", "", "."),  # else the working directory
        ("missing", "", "."),  # a directory that does not exist: the working directory
    ],
)
def test_command_file_location_when_run(given, env_dir, expect, tmp_path):
    for d in ("scripts", "envdir"):
        (tmp_path / d).mkdir()
    script = _write_part(SrunLauncher()("echo hi", 1, 1, str(tmp_path / given) if given else ""))
    env = {**os.environ, "JOBNAME": "job1"}
    env.pop("PARSL_SCRIPT_DIR", None)
    if env_dir:
        env["PARSL_SCRIPT_DIR"] = str(tmp_path / env_dir)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    cmdfile = (tmp_path / expect / "cmd_job1.sh").resolve()
    assert done.stdout.splitlines()[-1] == str(cmdfile)
    assert cmdfile.read_text().strip() == "echo hi"


def test_script_dir_with_shell_characters_is_quoted(tmp_path):
    odd = tmp_path / 'a "b" $c `d`'
    odd.mkdir()
    script = _write_part(SrunLauncher()("echo hi", 1, 1, str(odd)))
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "JOBNAME": "j"},
    )
    assert done.returncode == 0, done.stderr
    assert (odd / "cmd_j.sh").exists()


def test_bad_launcher_has_parsls_attributes():
    err = BadLauncher("srun")
    assert err.args == ("srun",) and vars(err) == {"launcher": "srun"} and err.reason is None
    assert str(err).startswith("Bad Launcher provided: srun, expecting a parsl.launchers")
    told = BadLauncher(42, "not callable")
    assert vars(told) == {"launcher": 42} and told.reason == "not callable"
    assert "not callable" in str(told) and isinstance(told, TypeError)
