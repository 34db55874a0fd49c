"""rsync staging between two hosts: a task on a pool in host B stages its input in from host C
and its output back to host C, with rsync over ssh to C's sshd, as a compute node fetches from
and returns to a file server. The workflow and interchange stay on host A.

The hosts share this machine's filesystem, so C's sshd log is what shows the copies went over
the network: one login from B's address per transfer, in and out.
"""

from __future__ import annotations

import time

import pytest
from htex_hosts import assert_hosts_empty, htex_config, require_tool, wait_for_managers

import parsl
from parsl import python_app
from parsl.data_provider.files import File
from parsl_staging.rsync import RSyncStaging

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


@python_app
def shout(host_a: str, inputs=(), outputs=()):
    """Upper-case the input into the output; return both paths and this host's address."""
    import socket

    with open(inputs[0].filepath) as f, open(outputs[0].filepath, "w") as out:
        out.write(f.read().upper())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host_a, 9))  # picks the route; sends nothing
        return inputs[0].filepath, outputs[0].filepath, s.getsockname()[0]


def _logins_from(log, address: str) -> int:
    return log.read_text().count(f"Accepted publickey for root from {address} ")


def test_files_staged_from_host_c_to_a_task_on_host_b_and_back(netns_hosts, host_sshds, tmp_path):
    require_tool("rsync")  # .ci/setup.d/10-sshd.sh installs it with the sshd
    topo = netns_hosts
    b, c = topo.hosts[0], topo.hosts[1]
    on_c = tmp_path / "on-c"
    on_c.mkdir()
    source = on_c / "in.txt"
    source.write_text("staged from host c\n")
    target = on_c / "out.txt"
    work = tmp_path / "on-b"
    config, ex, _ = htex_config(
        tmp_path,
        b,
        topo.a.address,
        blocks=1,
        storage_access=[RSyncStaging(f"root@{c.address}", ssh_command=host_sshds.ssh_command())],
        working_dir=str(work),
    )
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 1)
        started = time.monotonic()
        fut = shout(topo.a.address, inputs=[File(str(source))], outputs=[File(str(target))])
        in_path, out_path, ran_on = fut.result(timeout=60)
        fut.outputs[0].result(timeout=60)
        took = time.monotonic() - started
    finally:
        dfk.cleanup()
    assert ran_on == b.address
    # the app worked on copies in host B's working directory, not on host C's files
    assert in_path.startswith(str(work)) and out_path.startswith(str(work)), (in_path, out_path)
    assert open(in_path).read() == "staged from host c\n"
    assert target.read_text() == "STAGED FROM HOST C\n"
    assert took < 30, f"staging in and out took {took:.1f} s"
    # both copies were rsync sessions from host B to host C's sshd
    assert _logins_from(host_sshds.logs[c.name], b.address) == 2, host_sshds.logs[c.name].read_text()
    assert_hosts_empty(topo, ignore=("/usr/sbin/sshd",))  # the pool is gone; the sshds stop later
