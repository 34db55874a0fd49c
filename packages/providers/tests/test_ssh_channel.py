"""SSHChannel and SSHInteractiveLoginChannel against real SSH servers.

Key authentication, host-key checking, commands and SFTP run against the OpenSSH server of
.ci/infra/sshd-up.sh (keys only). Password and keyboard-interactive logins run against a
small paramiko SSH server started by this module on a free port (real SSH protocol,
real commands), because that sshd refuses passwords by design.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

paramiko = pytest.importorskip("paramiko")

from parsl.channels.errors import AuthException, BadHostKeyException  # noqa: E402 (after the importorskip)
from parsl_providers.ssh import SSHChannel, SSHInteractiveLoginChannel  # noqa: E402

pytestmark = [pytest.mark.infra]


def channel(sshd, **kw) -> SSHChannel:
    args = {k: sshd[k] for k in ("hostname", "port", "username", "key_filename", "host_keys_filename")}
    args.update(kw)
    return SSHChannel(**args)


def test_key_auth_exec_exit_codes_and_envs(sshd):
    ch = channel(sshd, envs={"PARSL_TEST_VAR": "a b"})
    try:
        rc, out, err = ch.execute_wait("echo $PARSL_TEST_VAR; echo oops >&2; exit 3", 10)
        assert (rc, out, err) == (3, "a b\n", "oops\n")
        rc, out, _ = ch.execute_wait("echo $X-$PARSL_TEST_VAR", 10, envs={"X": "1"})
        assert (rc, out) == (0, "1-a b\n")
        # Large output does not dead-lock the session.
        rc, out, _ = ch.execute_wait("head -c 3000000 /dev/zero | tr '\\0' x", 20)
        assert rc == 0 and len(out) == 3_000_000
    finally:
        assert ch.close() is True
    assert ch.close() is False


def test_execute_wait_timeout(sshd):
    ch = channel(sshd)
    try:
        t0 = time.monotonic()
        with pytest.raises(subprocess.TimeoutExpired):
            ch.execute_wait("sleep 20", 1)
        assert time.monotonic() - t0 < 5
        # The connection is still usable afterwards.
        assert ch.execute_wait("echo alive", 10)[1] == "alive\n"
    finally:
        ch.close()


def test_bad_key_rejected(sshd, tmp_path):
    wrong = tmp_path / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    ch = channel(sshd, key_filename=str(wrong))  # connects on its first command
    with pytest.raises(AuthException):
        ch.execute_wait("true", 10)


def test_unknown_host_rejected(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(BadHostKeyException):
        channel(sshd, host_keys_filename=str(empty)).execute_wait("true", 10)
    # A known_hosts entry with another key for that host is rejected too.
    wrong = tmp_path / "wrong_hosts"
    key = paramiko.RSAKey.generate(1024)
    wrong.write_text(f"[127.0.0.1]:{sshd['port']} ssh-rsa {key.get_base64()}\n")
    with pytest.raises(BadHostKeyException):
        channel(sshd, host_keys_filename=str(wrong)).execute_wait("true", 10)


def test_push_pull_makedirs(sshd, tmp_path):
    ch = channel(sshd)
    try:
        src = tmp_path / "payload.sh"
        data = os.urandom(1 << 20)
        src.write_bytes(data)
        src.chmod(0o750)
        remote_dir = f"/tmp/parsl-ssh-test-{os.getpid()}/a/b"
        assert not ch.isdir(remote_dir)
        ch.makedirs(remote_dir, exist_ok=True)
        assert ch.isdir(remote_dir)
        with pytest.raises(FileExistsError):
            ch.makedirs(remote_dir)
        remote = ch.push_file(str(src), remote_dir)
        assert remote == f"{remote_dir}/payload.sh"
        rc, out, _ = ch.execute_wait(f"stat -c %a {remote}; sha256sum {remote}", 10)
        import hashlib

        assert rc == 0
        assert out.split()[0] == "750" and out.split()[1] == hashlib.sha256(data).hexdigest()
        back = ch.pull_file(remote, str(tmp_path / "back"))
        assert open(back, "rb").read() == data
        assert ch.abspath("x/y") == os.path.join(ch.abspath("."), "x/y")
        assert ch.abspath("/tmp/../tmp/z") == "/tmp/z"
    finally:
        ch.execute_wait(f"rm -rf /tmp/parsl-ssh-test-{os.getpid()}", 10)
        ch.close()


# ---------------------------------------------------------------- password and 2FA logins
class _Server(paramiko.ServerInterface):
    """Accepts user ``parsl`` with password ``s3cret``; keyboard-interactive asks a password
    and a one-time code (``123456``). Runs exec requests with bash."""

    def __init__(self):
        self.event = threading.Event()
        self.command = None

    def check_channel_request(self, kind, chanid):
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )

    def get_allowed_auths(self, username):
        return "password,keyboard-interactive"

    def check_auth_password(self, username, password):
        return (
            paramiko.AUTH_SUCCESSFUL if (username, password) == ("parsl", "s3cret") else paramiko.AUTH_FAILED
        )

    def check_auth_interactive(self, username, submethods):
        self.user = username
        if username == "oauth":
            query = paramiko.InteractiveQuery("oauth", "")
            query.add_prompt("Access token: ", False)
            return query
        if username != "parsl":
            return paramiko.AUTH_FAILED
        query = paramiko.InteractiveQuery("login", "two factors")
        query.add_prompt("Password: ", False)
        query.add_prompt("Verification code: ", False)
        return query

    def check_auth_interactive_response(self, responses):
        if self.user == "oauth":
            return paramiko.AUTH_SUCCESSFUL if list(responses) == ["tok-123"] else paramiko.AUTH_FAILED
        return paramiko.AUTH_SUCCESSFUL if list(responses) == ["s3cret", "123456"] else paramiko.AUTH_FAILED

    def check_channel_exec_request(self, chan, command):
        self.command = command.decode()
        self.event.set()
        return True


@pytest.fixture(scope="module")
def password_server(tmp_path_factory):
    host_key = paramiko.RSAKey.generate(2048)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    known = tmp_path_factory.mktemp("pw") / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} ssh-rsa {host_key.get_base64()}\n")
    stop = threading.Event()

    def serve(conn):
        transport = paramiko.Transport(conn)
        transport.add_server_key(host_key)
        while not stop.is_set():
            server = _Server()
            try:
                if not transport.is_active():
                    transport.start_server(server=server)
                else:
                    transport.server_object = server
            except (paramiko.SSHException, EOFError):
                return
            chan = transport.accept(10)
            if chan is None:
                break
            if not server.event.wait(10):
                chan.close()
                continue
            done = subprocess.run(["/bin/bash", "-c", server.command], capture_output=True)
            chan.sendall(done.stdout)
            chan.sendall_stderr(done.stderr)
            chan.send_exit_status(done.returncode)
            chan.shutdown_write()
            chan.close()
        transport.close()

    def accept():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield {"hostname": "127.0.0.1", "port": port, "host_keys_filename": str(known)}
    stop.set()
    acceptor.join(5)
    listener.close()


def test_password_auth(password_server):
    ch = SSHChannel(username="parsl", password="s3cret", **password_server)
    try:
        assert ch.execute_wait("echo via-password; exit 4", 10) == (4, "via-password\n", "")
    finally:
        ch.close()
    with pytest.raises(AuthException):
        SSHChannel(username="parsl", password="wrong", **password_server).execute_wait("true", 10)


def test_interactive_login_answers_prompts(password_server, monkeypatch):
    asked = []

    def fake_getpass(prompt=""):
        asked.append(prompt)
        return "123456"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    ch = SSHInteractiveLoginChannel(username="parsl", password="s3cret", **password_server)
    try:
        assert asked == []  # nothing asked before the first command
        assert ch.execute_wait("echo 2fa-ok", 10) == (0, "2fa-ok\n", "")
        # The password prompt was answered from the argument, the code from the terminal.
        assert asked == ["Verification code: "]
    finally:
        ch.close()


def test_oauth_channel_logs_in_with_the_token(password_server, monkeypatch):
    import types

    from parsl.channels import OAuthSSHChannel

    token_module = types.ModuleType("oauth_ssh.oauth_ssh_token")
    token_module.find_access_token = lambda host: {"127.0.0.1": "tok-123"}[host]
    monkeypatch.setitem(sys.modules, "oauth_ssh", types.ModuleType("oauth_ssh"))
    monkeypatch.setitem(sys.modules, "oauth_ssh.oauth_ssh_token", token_module)
    ch = OAuthSSHChannel(username="oauth", **password_server)
    try:
        assert ch.execute_wait("echo token-ok", 10) == (0, "token-ok\n", "")
    finally:
        ch.close()
    token_module.find_access_token = lambda host: "expired"
    with pytest.raises(AuthException):
        OAuthSSHChannel(username="oauth", **password_server).execute_wait("true", 10)
    monkeypatch.setitem(sys.modules, "oauth_ssh.oauth_ssh_token", None)
    with pytest.raises(ImportError, match="oauth-ssh"):
        OAuthSSHChannel(username="oauth", **password_server)
