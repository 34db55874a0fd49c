"""Providers call launchers as Parsl does: ``launcher(command, tasks_per_node, nodes_per_block,
script_dir)``, with the directory the job's scripts are in; a launcher written for older Parsl
(three arguments) still works, with a DeprecationWarning.

The schedulers cannot run here (see test_contracts.py), so a fake channel answers their submit
commands; the launchers and the scripts the providers write are real.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from parsl.jobs.states import JobState
from parsl.launchers import GnuParallelLauncher
from parsl.providers import (
    CobaltProvider,
    CondorProvider,
    GridEngineProvider,
    LocalProvider,
    LSFProvider,
    PBSProProvider,
    SlurmProvider,
    TorqueProvider,
)


class RecordingLauncher(GnuParallelLauncher):
    """GnuParallelLauncher (it writes a command file) that remembers the ``script_dir`` it got."""

    def __init__(self) -> None:
        super().__init__()
        self.script_dirs: list[str] = []

    def __call__(self, command, tasks_per_node, nodes_per_block, script_dir=""):
        self.script_dirs.append(script_dir)
        return super().__call__(command, tasks_per_node, nodes_per_block, script_dir)


class FakeSubmitChannel:
    """Answers the submit command with ``reply``; records every command."""

    def __init__(self, pattern: str, reply: str):
        self.pattern, self.reply = pattern, reply
        self.commands: list[str] = []
        self.script_dir = None

    def execute_wait(self, cmd, walltime=None, envs={}):  # noqa: B006
        self.commands.append(cmd)
        if re.search(self.pattern, cmd):
            return 0, self.reply, ""
        return 0, "", ""


SCHEDULERS = [
    (SlurmProvider, r"^sbatch ", "Submitted batch job 101\n"),
    (PBSProProvider, r"^qsub ", "1234.pbs01\n"),
    (TorqueProvider, r"^qsub ", "1234.torque01\n"),
    (GridEngineProvider, r"^qsub ", "7\n"),
    (LSFProvider, r"^bsub ", "Job <52311> is submitted to queue <batch>.\n"),
    (CondorProvider, r"^condor_submit ", "1 job(s) submitted to cluster 4711.\n"),
    (CobaltProvider, r"^qsub ", "348217\n"),
]


@pytest.mark.parametrize("cls, pattern, reply", SCHEDULERS, ids=[s[0].__name__ for s in SCHEDULERS])
def test_batch_providers_pass_their_script_dir(cls, pattern, reply, script_dir):
    launcher = RecordingLauncher()
    provider = cls(channel=FakeSubmitChannel(pattern, reply), move_files=False, launcher=launcher)
    provider.script_dir = script_dir
    provider.submit("echo worker", 1)
    assert launcher.script_dirs == [script_dir]
    scripts = [n for n in os.listdir(script_dir) if not n.endswith((".stdout", ".stderr"))]
    text = "".join(open(os.path.join(script_dir, n)).read() for n in scripts)
    assert f'SCRIPT_DIR="{script_dir}"' in text  # the launcher's command file goes there


def test_an_old_three_argument_launcher_still_works_with_a_warning(script_dir):
    calls = []

    def old_style(command, tasks_per_node, nodes_per_block):
        calls.append((command, tasks_per_node, nodes_per_block))
        return f"{command} # twice\n{command}"

    provider = SlurmProvider(
        channel=FakeSubmitChannel(r"^sbatch ", "Submitted batch job 5\n"),
        move_files=False,
        launcher=old_style,
    )
    provider.script_dir = script_dir
    with pytest.warns(DeprecationWarning, match="script_dir"):
        provider.submit("echo worker", 1)
    assert calls == [("echo worker", 1, 1)]


def test_local_provider_passes_its_script_dir_to_a_real_launcher(tmp_path):
    seen = []

    def writes_a_file(command, tasks_per_node, nodes_per_block, script_dir):
        seen.append(script_dir)
        return f"echo launched > {os.path.join(script_dir, 'marker')}\n{command}"

    provider = LocalProvider(launcher=writes_a_file, init_blocks=0)
    provider.script_dir = str(tmp_path / "scripts")
    job = provider.submit("true", 1)
    deadline = time.monotonic() + 60
    while not provider.status([job])[0].terminal and time.monotonic() < deadline:
        time.sleep(0.05)
    assert provider.status([job])[0].state == JobState.COMPLETED
    assert seen == [str(tmp_path / "scripts")]
    assert (tmp_path / "scripts" / "marker").read_text() == "launched\n"
