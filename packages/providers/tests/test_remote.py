"""Providers driving their scheduler through an SSH channel: Slurm on a "login node" (the
test sshd on this host) and AdHocProvider's one block per host."""

from __future__ import annotations

import os

import pytest

from parsl.jobs.states import JobState
from parsl.providers import AdHocProvider, SlurmProvider
from parsl.providers.errors import ScaleOutFailed

pytestmark = [pytest.mark.infra]


def ssh_channel(sshd, **kw):
    from parsl.channels import SSHChannel

    args = {k: sshd[k] for k in ("hostname", "port", "username", "key_filename", "host_keys_filename")}
    return SSHChannel(**args, **kw)


def test_slurm_over_ssh_channel(slurm, sshd, tmp_path, wait):
    remote_dir = f"/tmp/parsl-remote-{os.getpid()}/scripts"
    channel = ssh_channel(sshd, script_dir=remote_dir)
    try:
        p = SlurmProvider(partition="debug", channel=channel, walltime="00:05:00", exclusive=False)
        p.script_dir = str(tmp_path / "local_scripts")
        assert p.status_command == "sacct"  # the probe ran over ssh
        job = p.submit("echo remote $SLURMD_NODENAME", 1)
        # The script was written locally and copied to the channel's script_dir.
        local = [f for f in os.listdir(p.script_dir) if f.endswith(".submit")]
        assert len(local) == 1
        assert channel.isdir(remote_dir)
        rc, out, _ = channel.execute_wait(f"ls {remote_dir}", 10)
        assert rc == 0 and local[0] in out.split()
        status = wait(lambda: (s := p.status([job])[0]).terminal and s, 30) or p.status([job])[0]
        assert status.state == JobState.COMPLETED, status
        rc, out, _ = channel.execute_wait(f"cat {remote_dir}/{local[0]}.stdout", 10)
        assert "remote n" in out
        sleeper = p.submit("sleep 300", 1)
        assert wait(lambda: p.status([sleeper])[0].state == JobState.RUNNING, 30)
        assert p.cancel([sleeper]) == [True]
        assert wait(
            lambda: channel.execute_wait(f"squeue -h -t all -j {sleeper} -o %t", 10)[1].strip() in ("CA", ""),
            20,
        )
    finally:
        channel.execute_wait(f"rm -rf /tmp/parsl-remote-{os.getpid()}", 10)
        channel.close()


def test_adhoc_one_block_per_host(sshd, tmp_path, wait):
    remote_dir = f"/tmp/parsl-adhoc-{os.getpid()}"
    channel = ssh_channel(sshd, script_dir=remote_dir)
    try:
        p = AdHocProvider(channels=[channel], worker_init="export GREETING=adhoc")
        p.script_dir = str(tmp_path)
        assert (p.init_blocks, p.max_blocks) == (1, 1)
        job = p.submit("echo $GREETING > out.txt; sleep 300", 1)
        assert job.startswith("127.0.0.1:")
        assert p.status([job])[0].state == JobState.RUNNING
        with pytest.raises(ScaleOutFailed):
            p.submit("true", 1)  # the only host already runs a block
        assert wait(lambda: channel.execute_wait(f"cat {remote_dir}/out.txt", 10)[1] == "adhoc\n", 10)
        assert p.cancel([job]) == [True]
        assert p.status([job])[0].state == JobState.CANCELLED
        pid = job.split(":")[1]
        assert channel.execute_wait(f"kill -0 {pid}", 10)[0] != 0
        # The host is free again; a failing block reports its exit code.
        failing = p.submit("exit 7", 1)
        status = wait(lambda: (s := p.status([failing])[0]).terminal and s, 20) or p.status([failing])[0]
        assert status.state == JobState.FAILED and status.exit_code == 7
    finally:
        channel.execute_wait(f"rm -rf {remote_dir}", 10)
        channel.close()


@pytest.mark.slow
def test_htex_with_slurm_over_ssh(slurm, sshd, tmp_path):
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor

    @parsl.python_app
    def node():
        import os

        return os.environ.get("SLURMD_NODENAME")

    remote_dir = f"/tmp/parsl-remote-htex-{os.getpid()}"
    channel = ssh_channel(sshd, script_dir=remote_dir)
    provider = SlurmProvider(
        partition="debug", channel=channel, walltime="00:05:00", exclusive=False, init_blocks=1, max_blocks=1
    )
    provider.status_polling_interval = 1
    htex = HighThroughputExecutor(
        label="ssh_slurm",
        provider=provider,
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=4,
    )
    try:
        with parsl.load(Config(executors=[htex], run_dir=str(tmp_path / "runinfo"), strategy="none")):
            assert node().result(timeout=90) in slurm["nodes"]
        (job,) = provider.resources
        # The script written under the run directory was copied to the login node, ran there
        # and its output stayed there.
        local = [p.name for p in tmp_path.glob("runinfo/*/submit_scripts/*.submit")]
        remote = channel.execute_wait(f"ls {remote_dir}", 10)[1].split()
        assert len(local) == 1 and local[0] in remote and local[0] + ".stdout" in remote
        # Cleanup ended the block: nothing is left running in Slurm.
        assert provider.resources[job]["status"].terminal
        state = channel.execute_wait(f"squeue -h -t all -j {job} -o %t", 10)[1].strip()
        assert state in ("CD", "CA", "CG", ""), state
    finally:
        channel.execute_wait(f"rm -rf {remote_dir}", 10)
        channel.close()
