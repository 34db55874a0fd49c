"""Where the interchange's worker port listens: on ``address`` when it is one of this host's IP
addresses (as Parsl does), on every interface when no address is given, and on every interface
(with a warning, where Parsl fails to start) when ``address`` is not this host's, such as a
NAT's public address. The multi-host tests (tests/multihost) check the same across hosts."""

from __future__ import annotations

import os

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor
from parsl_executor_htex.executor import _listen_interface

psutil = pytest.importorskip("psutil")


@python_app
def double(x):
    return 2 * x


# every interface: "::" (IPv6 and IPv4), or "0.0.0.0" on a host without IPv6
def _listening(pid: int) -> list[tuple[str, int]]:
    found = []
    for c in psutil.Process(pid).net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN:
            found.append((c.laddr.ip.removeprefix("::ffff:"), c.laddr.port))
    return found


def _load(tmp_path, address, blocks):
    ex = HighThroughputExecutor(
        label="htex",
        address=address,
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=5,
        provider=LocalProvider(init_blocks=blocks, max_blocks=blocks),
    )
    config = Config(executors=[ex], run_dir=str(tmp_path), strategy="none")
    return parsl.load(config), ex


def test_listen_interface():
    assert _listen_interface(None) == "*"
    assert _listen_interface("") == "*"
    assert _listen_interface("10.0.0.5") == "10.0.0.5"
    assert _listen_interface(" [::1] ") == "::1"
    assert _listen_interface("login1.example.org") == "*"
    assert _listen_interface("10.0.0.5,10.0.0.6") == "*"


@pytest.mark.slow
def test_an_address_limits_where_the_worker_port_listens(tmp_path):
    dfk, ex = _load(tmp_path, "127.0.0.1", blocks=1)
    try:
        assert _listening(ex._ix_proc.pid) == [("127.0.0.1", ex.worker_port)]
        assert double(21).result(timeout=60) == 42
    finally:
        dfk.cleanup()


@pytest.mark.slow
def test_no_address_listens_everywhere(tmp_path):
    dfk, ex = _load(tmp_path, None, blocks=0)
    try:
        assert _listening(ex._ix_proc.pid) in ([("::", ex.worker_port)], [("0.0.0.0", ex.worker_port)])
    finally:
        dfk.cleanup()


@pytest.mark.slow
def test_an_address_not_of_this_host_listens_everywhere(tmp_path):
    # 192.0.2.0/24 is for documentation (RFC 5737): no host has it, as none has a NAT's address
    dfk, ex = _load(tmp_path, "192.0.2.77", blocks=0)
    try:
        assert _listening(ex._ix_proc.pid) in ([("::", ex.worker_port)], [("0.0.0.0", ex.worker_port)])
        with open(os.path.join(ex.logdir, "interchange.log")) as f:
            log = f.read()
        assert "Cannot listen on 192.0.2.77" in log and "every interface" in log
    finally:
        dfk.cleanup()
