"""SSH channels connect on their first command, never when they are made.

Site configuration modules build ``SSHChannel(hostname=...)`` at import time for login nodes
that are often unreachable from where the module is imported; making the channel must
not touch the network, and the first command must fail clearly, naming host and port.
Only loopback addresses are used: a listening socket that no one should connect to, and
a closed port.
"""

from __future__ import annotations

import copy
import pickle
import socket
import sys
import types

import pytest

paramiko = pytest.importorskip("paramiko")

from parsl.channels.errors import SSHException  # noqa: E402 (after the importorskip)
from parsl_providers.oauth_ssh import OAuthSSHChannel  # noqa: E402
from parsl_providers.ssh import SSHChannel, SSHInteractiveLoginChannel  # noqa: E402


@pytest.fixture
def listener():
    """A loopback port that accepts TCP connections (none should arrive)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connecting is refused
    return port


@pytest.fixture
def fake_oauth_ssh(monkeypatch):
    """The ``oauth-ssh`` package's token lookup (a fake: the package talks to an OAuth service)."""
    module = types.ModuleType("oauth_ssh.oauth_ssh_token")
    module.find_access_token = lambda host: "token"
    monkeypatch.setitem(sys.modules, "oauth_ssh", types.ModuleType("oauth_ssh"))
    monkeypatch.setitem(sys.modules, "oauth_ssh.oauth_ssh_token", module)


def _nobody_connected(listener: socket.socket) -> bool:
    # a loopback connect() completes the handshake before it returns, so a connection made
    # while the channel was built would be queued here already
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    "make",
    [
        lambda port: SSHChannel("127.0.0.1", username="u", port=port),
        lambda port: SSHChannel(hostname="127.0.0.1", password="pw", port=port, script_dir="/tmp/x"),
        lambda port: SSHInteractiveLoginChannel("127.0.0.1", username="u", port=port),
        lambda port: OAuthSSHChannel("127.0.0.1", username="u", port=port),
    ],
    ids=["ssh", "ssh-password", "interactive", "oauth"],
)
def test_making_a_channel_opens_no_connection(make, listener, fake_oauth_ssh, monkeypatch):
    def no_prompt(prompt=""):
        raise AssertionError("prompted while making the channel")

    monkeypatch.setattr("getpass.getpass", no_prompt)
    ch = make(listener.getsockname()[1])
    assert _nobody_connected(listener)
    assert ch.close() is False  # nothing was open
    # an unconnected channel copies and pickles like any configuration object
    assert pickle.loads(pickle.dumps(ch)).hostname == "127.0.0.1"
    assert copy.deepcopy(ch).port == ch.port


def test_first_command_on_an_unreachable_port_names_host_and_port(closed_port):
    ch = SSHChannel("127.0.0.1", username="u", port=closed_port)
    with pytest.raises(SSHException) as info:
        ch.execute_wait("true", 10)
    err = info.value
    assert err.hostname == "127.0.0.1" and err.port == closed_port
    text = str(err)
    assert "127.0.0.1" in text and str(closed_port) in text and str(err.__cause__) in text
    assert isinstance(err.__cause__, OSError)
    # the channel stays usable as an object: the next command tries again (and fails the same way)
    with pytest.raises(SSHException):
        ch.push_file(__file__, "/tmp")


def test_oauth_channel_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "oauth_ssh.oauth_ssh_token", None)
    with pytest.raises(ImportError, match="pip install oauth-ssh"):
        OAuthSSHChannel("127.0.0.1", username="u")


@pytest.mark.infra
def test_real_sshd_connects_on_first_command_only(sshd):
    args = {k: sshd[k] for k in ("hostname", "port", "username", "key_filename", "host_keys_filename")}
    ch = SSHChannel(**args)
    assert ch._client is None
    try:
        assert ch.execute_wait("echo first", 10) == (0, "first\n", "")
        client = ch._client
        assert ch.execute_wait("echo second", 10)[1] == "second\n"
        assert ch._client is client  # one connection, reused
        again = pickle.loads(pickle.dumps(ch))  # a connected channel pickles without its socket
        try:
            assert again.execute_wait("echo copy", 10)[1] == "copy\n"
        finally:
            again.close()
    finally:
        assert ch.close() is True
