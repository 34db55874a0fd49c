"""LocalProvider runs real jobs; provider base classes validate and behave like upstream's."""

from __future__ import annotations

import copy
import inspect
import os
import pickle
import shutil
import textwrap
import time

import pytest

from parsl.errors import ConfigurationError
from parsl.jobs.states import TERMINAL_STATES, JobState, JobStatus
from parsl.launchers import SimpleLauncher, SingleNodeLauncher
from parsl.launchers.errors import BadLauncher
from parsl.providers import ClusterProvider, ExecutionProvider, LocalProvider
from parsl.providers.errors import SchedulerMissingArgs, ScriptPathError


def wait_terminal(provider, job_id, timeout=10.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        (status,) = provider.status([job_id])
        if status.terminal or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.fixture
def provider(tmp_path):
    p = LocalProvider(launcher=SimpleLauncher())
    p.script_dir = str(tmp_path)
    yield p
    p.cancel(list(p.resources))


def test_job_completes_and_writes_file(provider, tmp_path):
    target = tmp_path / "out.txt"
    job_id = provider.submit(f"echo hello > {target}; echo to-stdout; echo to-stderr >&2", 1)
    assert isinstance(job_id, str) and job_id
    status = wait_terminal(provider, job_id)
    assert status.state == JobState.COMPLETED
    assert status.exit_code == 0
    assert target.read_text() == "hello\n"
    assert status.stdout == "to-stdout\n"
    assert status.stderr == "to-stderr\n"
    assert status.stdout_path.startswith(str(tmp_path))
    assert status.stdout_summary == "to-stdout\n"
    # The process has been reaped: no zombie left.
    assert not os.path.exists(f"/proc/{job_id}")


def test_failing_job_reports_exit_code(provider):
    job_id = provider.submit("echo failing >&2; exit 7", 1)
    status = wait_terminal(provider, job_id)
    assert status.state == JobState.FAILED
    assert status.exit_code == 7
    assert status.terminal
    assert "failing" in status.stderr
    assert "7" in status.message


def test_running_then_cancel_kills_process_group(provider, tmp_path):
    pidfile = tmp_path / "child.pid"
    job_id = provider.submit(f"sleep 100 & echo $! > {pidfile}; wait", 1)
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child = int(pidfile.read_text())
    assert provider.status([job_id])[0].state == JobState.RUNNING
    assert pid_alive(child)

    start = time.monotonic()
    assert provider.cancel([job_id]) == [True]
    assert time.monotonic() - start < 2
    status = provider.status([job_id])[0]
    assert status.state == JobState.CANCELLED
    assert status.terminal
    assert not pid_alive(child)
    assert not pid_alive(int(job_id))


def test_cancel_escalates_to_sigkill(provider, tmp_path):
    provider.cancel_grace_period = 0.3
    pidfile = tmp_path / "stubborn.pid"
    job_id = provider.submit(f"trap '' TERM; sleep 100 & echo $! > {pidfile}; wait", 1)
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stubborn = int(pidfile.read_text())
    start = time.monotonic()
    assert provider.cancel([job_id]) == [True]
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 3  # waited the grace period, then SIGKILL
    assert not pid_alive(stubborn)
    assert not pid_alive(int(job_id))
    assert provider.status([job_id])[0].state == JobState.CANCELLED


def test_unknown_job_is_missing(provider):
    (status,) = provider.status(["999999999"])
    assert status.state == JobState.MISSING
    assert provider.cancel(["999999999"]) == [False]


def test_default_launcher_and_worker_init(tmp_path):
    provider = LocalProvider(worker_init=f"export GREETING=hi; echo init > {tmp_path}/init.txt")
    provider.script_dir = str(tmp_path)
    out = tmp_path / "workers.txt"
    job_id = provider.submit(f'echo "$GREETING $1 $CORES" >> {out}', 3)
    assert wait_terminal(provider, job_id).state == JobState.COMPLETED
    lines = sorted(out.read_text().splitlines())
    assert [line.split()[:2] for line in lines] == [["hi", "1"], ["hi", "2"], ["hi", "3"]]
    assert all(int(line.split()[2]) >= 1 for line in lines)
    assert (tmp_path / "init.txt").exists()
    script = [p for p in os.listdir(tmp_path) if p.endswith(".sh")]
    assert len(script) == 1 and script[0].startswith("parsl.localprovider.")


def test_script_dir_defaults_to_temp_dir():
    provider = LocalProvider(launcher=SimpleLauncher())
    job_id = provider.submit("true", 1)
    assert wait_terminal(provider, job_id).state == JobState.COMPLETED
    script = provider.resources[job_id]["script_path"]
    assert os.path.isfile(script)
    shutil.rmtree(os.path.dirname(script))


def test_unwritable_script_dir(tmp_path):
    provider = LocalProvider(launcher=SimpleLauncher())
    provider.script_dir = str(tmp_path / "file")
    (tmp_path / "file").write_text("")
    with pytest.raises((ScriptPathError, OSError)):
        provider.submit("true", 1)


def test_signature_and_attributes():
    provider = LocalProvider()
    assert provider.label == "local"
    assert provider.status_polling_interval == 5
    assert (provider.init_blocks, provider.min_blocks, provider.max_blocks) == (1, 0, 1)
    assert provider.nodes_per_block == 1 and provider.parallelism == 1
    assert provider.cores_per_node is None and provider.mem_per_node is None
    provider.cores_per_node = 4
    assert provider.cores_per_node == 4
    assert isinstance(provider.launcher, SingleNodeLauncher)
    assert repr(provider).startswith("LocalProvider(")
    # Old-style configurations pass a channel and move_files.
    legacy = LocalProvider(channel=object(), move_files=False, init_blocks=0)
    assert legacy.move_files is False
    clone = copy.deepcopy(provider)
    assert repr(clone) == repr(provider) and clone.cores_per_node == 4
    assert pickle.loads(pickle.dumps(LocalProvider(max_blocks=3))).max_blocks == 3


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"min_blocks": 3, "max_blocks": 1}, "min_blocks"),
        ({"max_blocks": -1, "min_blocks": 0}, "max_blocks"),
        ({"init_blocks": -2}, "init_blocks"),
        ({"parallelism": -0.1}, "parallelism"),
        ({"nodes_per_block": 0}, "nodes_per_block"),
    ],
)
def test_invalid_numbers_raise_configuration_error(kwargs, field):
    with pytest.raises(ConfigurationError, match=field):
        LocalProvider(**kwargs)


def test_bad_launcher():
    with pytest.raises(BadLauncher):
        LocalProvider(launcher="srun")


def test_job_states():
    assert [s.name for s in TERMINAL_STATES] == [
        "CANCELLED",
        "COMPLETED",
        "FAILED",
        "TIMEOUT",
        "MISSING",
        "SCALED_IN",
    ]
    assert not JobState.RUNNING.terminal and JobState.SCALED_IN.terminal
    assert str(JobState.HELD) == "JobState.HELD"
    status = JobStatus(JobState.FAILED, message="boom", exit_code=3)
    assert status.terminal and status.status_name == "FAILED"
    assert "JobState.FAILED" in repr(status) and "boom" in repr(status)
    assert status.stdout is None and status.stderr_summary is None


def test_status_summary_truncates(tmp_path):
    path = tmp_path / "big"
    path.write_text("a" * 3000 + "b" * 3000)
    summary = JobStatus(JobState.COMPLETED, stdout_path=str(path)).stdout_summary
    assert summary.startswith("a" * 1024) and summary.endswith("b" * 1024) and "\n...\n" in summary


def _docstring_example():
    # inspect.getdoc: Python 3.13 strips docstring indentation at compile time, older ones do not.
    doc = inspect.getdoc(ExecutionProvider)
    block = doc.split("local process::\n", 1)[1].split("\nUse it like", 1)[0]
    return textwrap.dedent(block)


def test_docstring_provider_example_runs():
    namespace: dict = {}
    exec(compile(_docstring_example(), "example", "exec"), namespace)
    provider = namespace["SubprocessProvider"](max_blocks=2)
    ok = provider.submit("exit 0", 1)
    bad = provider.submit("exit 4", 1)
    deadline = time.monotonic() + 5
    while not all(s.terminal for s in provider.status([ok, bad])):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    good, failed = provider.status([ok, bad])
    assert good.state == JobState.COMPLETED and failed.exit_code == 4
    assert provider.status(["nope"])[0].state == JobState.MISSING
    with pytest.raises(ConfigurationError):
        namespace["SubprocessProvider"](min_blocks=5, max_blocks=2)


class FakeScheduler(ClusterProvider):
    status_polling_interval = 1  # type: ignore[assignment]

    def __init__(self, **kwargs):
        super().__init__("fake", 1, 1, 0, 2, 1, "00:10:00", SimpleLauncher(), **kwargs)
        self.polls = 0

    def submit(self, command, tasks_per_node, job_name="parsl.auto"):
        job_id = str(len(self.resources))
        self.resources[job_id] = {"job_id": job_id, "status": JobStatus(JobState.PENDING)}
        return job_id

    def _status(self):
        self.polls += 1
        for record in self.resources.values():
            if not record["status"].terminal:
                record["status"] = JobStatus(JobState.COMPLETED)

    def cancel(self, job_ids):
        return [True for _ in job_ids]


def test_cluster_provider_status_and_template(tmp_path):
    provider = FakeScheduler()
    assert provider.label == "fake" and provider.walltime == "00:10:00" and provider.cmd_timeout == 10
    job_id = provider.submit("x", 1)
    assert provider.status([job_id])[0].state == JobState.COMPLETED
    assert provider.status([job_id])[0].state == JobState.COMPLETED
    assert provider.polls == 1  # terminal jobs are not polled again
    assert provider.status(["missing"])[0].state == JobState.MISSING

    script = tmp_path / "submit.sh"
    assert provider._write_submit_script("#name $jobname\n$cmd\n", str(script), "j1", {"cmd": "run"})
    assert script.read_text() == "#name j1\nrun\n"
    with pytest.raises(SchedulerMissingArgs):
        provider._write_submit_script("$nodes", str(script), "j1", {})
    with pytest.raises(ScriptPathError):
        provider._write_submit_script("x", str(tmp_path / "no" / "such.sh"), "j1", {})

    assert provider.execute_wait("echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")


def test_cluster_provider_legacy_channel_order():
    class Legacy(FakeScheduler):
        def __init__(self):
            ClusterProvider.__init__(
                self, "old", None, 2, 1, 0, 3, 0.5, "01:00:00", cmd_timeout=5, launcher=SimpleLauncher()
            )

    provider = Legacy()
    assert (provider.label, provider.nodes_per_block, provider.max_blocks) == ("old", 2, 3)
    assert (provider.parallelism, provider.walltime, provider.cmd_timeout) == (0.5, "01:00:00", 5)
    with pytest.raises(BadLauncher):
        FakeScheduler.__bases__[0].__init__(provider, "x", 1, 1, 0, 1, 1, "00:01:00", "not-callable")
