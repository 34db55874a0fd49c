"""HTEX across hosts is encrypted by default, and a pool with the wrong keys is refused.

tcpdump in host B's namespace captures every TCP packet on B's interface while a task passes a
fresh marker as its argument and returns another as its result, both run by a pool in B that
talks to the interchange on host A over the bridge. With the default (CurveZMQ) neither marker
is anywhere in the capture; with ``encrypted=False`` both are, so the check can fail.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from htex_hosts import Capture, assert_hosts_empty, htex_config, require_tool, wait_for_managers

import parsl
from parsl import python_app
from parsl.executors.errors import BadStateException
from parsl_executor_htex.curve import create_certificates
from parsl_executor_htex.executor import DEFAULT_LAUNCH_CMD

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.multihost]


@python_app
def echo_reversed(marker: str):
    """Returns the marker reversed: a string that is in the result and not in the argument."""
    return marker[::-1]


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "plain"])
def test_task_data_between_hosts_is_encrypted_by_default(netns_hosts, tmp_path, encrypted):
    require_tool("tcpdump")
    topo = netns_hosts
    b = topo.hosts[0]
    kw = {} if encrypted else {"encrypted": False}
    config, ex, _ = htex_config(tmp_path, b, topo.a.address, blocks=1, **kw)
    assert ex.encrypted is encrypted
    marker = f"marker-{uuid.uuid4().hex}"
    dfk = parsl.load(config)
    try:
        wait_for_managers(ex, 1)
        capture = Capture(topo, b, tmp_path / "b.pcap").start()
        try:
            assert echo_reversed(marker).result(timeout=60) == marker[::-1]
        finally:
            data = capture.stop()
    finally:
        dfk.cleanup()
    # the capture holds the pool's traffic with the interchange's worker port on host A
    seen = topo.run_in(
        topo.a,
        ["tcpdump", "-r", str(tmp_path / "b.pcap"), "-n", f"host {topo.a.address} and port {ex.worker_port}"],
    )
    assert seen.returncode == 0, seen.stderr
    # the task went one way and its result the other
    sent = f"{topo.a.address}.{ex.worker_port} > {b.address}."
    returned = f"> {topo.a.address}.{ex.worker_port}:"
    assert sent in seen.stdout and returned in seen.stdout, f"{capture.summary}\n{seen.stdout}"
    argument, result = marker.encode(), marker[::-1].encode()
    if encrypted:
        assert argument not in data, "the task's argument crossed the bridge in clear"
        assert result not in data, "the task's result crossed the bridge in clear"
    else:
        assert argument in data and result in data, "without encryption the markers must be visible"
    assert_hosts_empty(topo)


def _keys_of_another_client(tmp_path, run_keys):
    """The run's server key with another client key pair: the interchange's authenticator refuses it."""
    other = create_certificates(tmp_path / "other-client")
    mixed = tmp_path / "mixed-keys"
    mixed.mkdir(mode=0o700)
    for name, src in (("server.key", run_keys), ("client.key", other), ("client.key_secret", other)):
        (mixed / name).write_bytes((Path(src) / name).read_bytes())
    return str(mixed)


@pytest.mark.parametrize("keys", ["another-run", "another-client"])
def test_pool_with_wrong_keys_is_refused(netns_hosts, tmp_path, keys):
    topo = netns_hosts
    b = topo.hosts[0]
    # no block at load: the pool's key directory is made first, from the run's keys for one case
    placeholder = str(tmp_path / "pool-keys")
    cmd = DEFAULT_LAUNCH_CMD.replace("{cert_dir}", placeholder)
    # a long accept deadline: only the handshake check can end the pool within the bound
    config, ex, _ = htex_config(
        tmp_path, b, topo.a.address, blocks=0, max_blocks=1, launch_cmd=cmd, address_probe_timeout=60
    )
    started = time.monotonic()
    dfk = parsl.load(config)
    try:
        if keys == "another-run":
            wrong = create_certificates(placeholder)
            expected = f"the server key in {wrong} is not the interchange's"
        else:
            wrong = _keys_of_another_client(tmp_path, ex.cert_dir)
            Path(wrong).rename(placeholder)
            expected = "refused this pool's CurveZMQ client key"
        ex.scale_out_facade(1)
        fut = echo_reversed("never")
        with pytest.raises(BadStateException) as info:
            fut.result(timeout=30)
        took = time.monotonic() - started
        assert ex.connected_managers() == []
    finally:
        dfk.cleanup()
    text = str(info.value)
    assert took < 20, f"the block took {took:.1f} s to fail"
    assert f"the interchange at {topo.a.address}:{ex.worker_port}" in text, text
    assert expected in text, text
    assert "block 0" in text and ".stderr" in text, text
    assert_hosts_empty(topo)
