"""Fixtures for the multi-host tests: hosts B, C, D as network namespaces (see netns.py).

``netns_hosts`` makes one topology per test module and tears it down afterwards, failed test or
not; the first use in a session also removes what dead test runs left behind. Without root or
``ip netns`` the tests skip, except under ``CI=true``, where they fail: CI must run them
(``.ci/setup.d/60-netns.sh`` installs the tools).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # importlib mode: test modules import netns.py through sys.path
    sys.path.insert(0, HERE)

import htex_hosts  # noqa: E402
import netns  # noqa: E402

_cleaned = False


def _require_netns() -> None:
    reason = netns.unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"multi-host tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def netns_hosts(request):
    """A topology with host A (this namespace) and hosts B, C, D; deleted after the module."""
    global _cleaned
    _require_netns()
    if not _cleaned:
        _cleaned = True
        netns.cleanup_stale()
    topology = netns.create(3)
    request.addfinalizer(topology.teardown)
    return topology


@pytest.fixture
def host_sshds(netns_hosts, tmp_path):
    """An sshd in each of hosts B, C, D on port 22 of the host's address (the test sshd's keys,
    .ci/infra/sshd-up.sh), stopped after the test: a :class:`htex_hosts.Sshds`."""
    pytest.importorskip("paramiko")
    with htex_hosts.sshds(netns_hosts, netns_hosts.hosts, tmp_path) as started:
        yield started
