"""SSH channels (paramiko): run a provider's scheduler commands on a remote login node.

``SSHChannel`` authenticates with keys (agent, ``~/.ssh`` or ``key_filename``) or a
password, checks the server against ``known_hosts`` (unknown hosts are rejected), runs
commands with ``execute_wait`` and moves files over SFTP. A channel connects on its first
command, not when it is made: site configuration modules build channels at import time, for
hosts that may not be reachable from where the module is imported. ``SSHInteractiveLoginChannel``
answers keyboard-interactive prompts (passwords, one-time codes) on the terminal.
Channels were dropped by current Parsl; they are kept here for 0.9-era configurations.
"""

from __future__ import annotations

import getpass
import logging
import os
import select
import shlex
import stat
import subprocess
import threading
import time
from typing import Any

import paramiko

from parsl.channels.base import Channel
from parsl.channels.errors import (
    AuthException,
    BadHostKeyException,
    BadPermsScriptPath,
    BadScriptPath,
    FileCopyException,
    SSHException,
)
from parsl.utils import RepresentationMixin

logger = logging.getLogger(__name__)

__all__ = ["SSHChannel", "SSHInteractiveLoginChannel"]


class SSHChannel(Channel, RepresentationMixin):
    """A persistent SSH connection to ``hostname`` (as ``username``, port ``port``).

    Making one does not connect: the first command or file transfer does, and raises then
    if the host cannot be reached or refuses the login (``SSHException``,
    ``AuthException``, ``BadHostKeyException``, each naming the host and port).

    Parameters
    ----------
    hostname, username, password, port
        Where and as whom to log in; ``password`` is used only if given.
    script_dir : str, optional
        Remote directory for job scripts (made on first use); default
        ``~/.parsl_scripts/<run>``.
    envs : dict, optional
        Environment variables exported before every command.
    gssapi_auth : bool
        Use GSS-API (Kerberos) authentication.
    skip_auth : bool
        Do not authenticate (the transport is authenticated by other means).
    key_filename : str or list of str, optional
        Private key file(s) to try before the agent and ``~/.ssh`` keys.
    host_keys_filename : str, optional
        A ``known_hosts`` file to trust besides the user's; a server in neither is
        rejected with ``BadHostKeyException``.
    """

    #: remote directory for job scripts; a plain attribute (Channel declares it abstract)
    script_dir: str | None = None

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        password: str | None = None,
        script_dir: str | None = None,
        envs: dict[str, str] | None = None,
        gssapi_auth: bool = False,
        skip_auth: bool = False,
        port: int = 22,
        key_filename: str | list[str] | None = None,
        host_keys_filename: str | None = None,
    ):
        self.hostname = hostname
        self.username = username
        self.password = password
        self.port = port
        self.script_dir = script_dir
        self.envs = dict(envs or {})
        self.gssapi_auth = gssapi_auth
        self.skip_auth = skip_auth
        self.key_filename = key_filename
        self.host_keys_filename = host_keys_filename
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.Lock()  # one connection, even when threads start commands together

    # The repr must not show the password.
    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(hostname={self.hostname!r}, username={self.username!r}, "
            f"port={self.port!r}, script_dir={self.script_dir!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = state["_sftp"] = None
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ connection
    def _new_client(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        client.load_system_host_keys()
        if self.host_keys_filename:
            client.load_host_keys(os.path.expanduser(self.host_keys_filename))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        return client

    def _connect(self) -> None:
        client = self._new_client()
        try:
            self._authenticate(client)
        except paramiko.BadHostKeyException as e:
            client.close()
            raise BadHostKeyException(e, self.hostname, self.port) from e
        except paramiko.AuthenticationException as e:
            client.close()
            raise AuthException(e, self.hostname, self.port) from e
        except paramiko.SSHException as e:
            client.close()
            # RejectPolicy: "Server '[host]:port' not found in known_hosts"
            if "known_hosts" in str(e):
                raise BadHostKeyException(e, self.hostname, self.port) from e
            raise SSHException(e, self.hostname, self.port) from e
        except OSError as e:  # unreachable, refused, unknown host name, timed out
            client.close()
            raise SSHException(e, self.hostname, self.port) from e
        self._client = client
        self._sftp = None

    def _authenticate(self, client: paramiko.SSHClient) -> None:
        if self.skip_auth:
            client._transport = self._checked_transport(client)
            return
        options: dict[str, Any] = {}
        if self.gssapi_auth:
            # paramiko 5 dropped GSS-API; older releases still take these arguments.
            options = {"gss_auth": True, "gss_kex": True}
        client.connect(
            self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            key_filename=self.key_filename,
            allow_agent=self.password is None,
            look_for_keys=self.password is None or self.key_filename is not None,
            timeout=30,
            banner_timeout=30,
            auth_timeout=30,
            **options,
        )

    def _checked_transport(self, client: paramiko.SSHClient) -> paramiko.Transport:
        """A transport to the host, not yet authenticated, whose key ``client`` knows.

        For the logins ``SSHClient.connect`` cannot do itself (keyboard-interactive, none):
        the caller authenticates it and hands it to ``client``.
        """
        transport = paramiko.Transport((self.hostname, self.port))
        transport.start_client(timeout=30)
        key = transport.get_remote_server_key()
        name = self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"
        known = client.get_host_keys().lookup(name)
        if known is None or known.get(key.get_name()) != key:
            transport.close()
            raise paramiko.SSHException(f"Server {name!r} not found in known_hosts")
        return transport

    def _transport(self) -> paramiko.Transport:
        """The live connection: made on first use, and again if it was lost."""
        client = self._client
        transport = client.get_transport() if client is not None else None
        if transport is not None and transport.is_active():
            return transport
        with self._lock:
            client = self._client
            transport = client.get_transport() if client is not None else None
            if transport is None or not transport.is_active():
                if client is None:
                    logger.debug("Connecting to %s port %s", self.hostname, self.port)
                else:
                    logger.info("SSH connection to %s port %s lost; reconnecting", self.hostname, self.port)
                    client.close()
                self._connect()
                transport = self._client.get_transport()  # type: ignore[union-attr]
        return transport

    def sftp(self) -> paramiko.SFTPClient:
        """The SFTP session of this connection (opened on first use)."""
        transport = self._transport()
        if self._sftp is None or self._sftp.get_channel().get_transport() is not transport:
            self._sftp = paramiko.SFTPClient.from_transport(transport)
        return self._sftp

    # -------------------------------------------------------------- commands
    def _wrap(self, cmd: str, envs: dict[str, str] | None) -> str:
        env = {**self.envs, **(envs or {})}
        exports = "".join(f"export {k}={shlex.quote(str(v))}; " for k, v in env.items())
        return exports + cmd

    def execute_wait(
        self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Run ``cmd`` remotely; return ``(exit_code, stdout, stderr)``.

        ``walltime`` seconds (None or 0: no limit) bound the whole command; past it the
        session is closed and ``subprocess.TimeoutExpired`` is raised.
        """
        chan = self._transport().open_session(timeout=30)
        try:
            chan.exec_command(self._wrap(cmd, envs))
            chan.shutdown_write()
            deadline = time.monotonic() + walltime if walltime else None
            out, err = bytearray(), bytearray()
            while True:
                if chan.recv_ready():
                    out += chan.recv(65536)
                    continue
                if chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                    continue
                if chan.exit_status_ready() and chan.eof_received:
                    break
                wait = 0.5 if deadline is None else deadline - time.monotonic()
                if wait <= 0:
                    raise subprocess.TimeoutExpired(cmd, walltime, bytes(out), bytes(err))
                select.select([chan], [], [], min(wait, 0.5))
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
            return chan.recv_exit_status(), out.decode(errors="replace"), err.decode(errors="replace")
        finally:
            chan.close()

    def execute_no_wait(
        self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None
    ) -> tuple[None, Any, Any]:
        """Start ``cmd`` remotely and return ``(None, stdout, stderr)`` file objects at once."""
        self._transport()
        client: Any = self._client
        _, stdout, stderr = client.exec_command(self._wrap(cmd, envs), timeout=walltime or None)
        return None, stdout, stderr

    # ----------------------------------------------------------------- files
    def push_file(self, local_source: str, remote_dir: str) -> str:
        """Copy ``local_source`` into ``remote_dir`` (made if missing); return the remote path."""
        remote = os.path.join(remote_dir, os.path.basename(local_source))
        try:
            self.makedirs(remote_dir, exist_ok=True)
        except PermissionError as e:
            raise BadPermsScriptPath(e, self.hostname) from e
        except OSError as e:
            raise BadScriptPath(e, self.hostname) from e
        try:
            sftp = self.sftp()
            sftp.put(local_source, remote, confirm=True)
            sftp.chmod(remote, stat.S_IMODE(os.stat(local_source).st_mode))
        except (OSError, paramiko.SSHException) as e:
            raise FileCopyException(e, self.hostname) from e
        return remote

    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """Copy ``remote_source`` into local ``local_dir`` (made if missing); return the local path."""
        local = os.path.join(local_dir, os.path.basename(remote_source))
        try:
            os.makedirs(local_dir, exist_ok=True)
            self.sftp().get(remote_source, local)
        except (OSError, paramiko.SSHException) as e:
            raise FileCopyException(e, self.hostname) from e
        return local

    def isdir(self, path: str) -> bool:
        """True if ``path`` is a directory on the remote side."""
        try:
            return stat.S_ISDIR(self.sftp().stat(path).st_mode or 0)
        except OSError:
            return False

    def makedirs(self, path: str, mode: int = 0o511, exist_ok: bool = False) -> None:
        """Make remote directory ``path`` and its missing parents."""
        if self.isdir(path):
            if not exist_ok:
                raise FileExistsError(path)
            return
        sftp = self.sftp()
        absolute = path.startswith("/")
        current = "/" if absolute else ""
        for part in [p for p in path.split("/") if p]:
            current = os.path.join(current, part) if current else part
            if not self.isdir(current):
                sftp.mkdir(current, mode)

    def abspath(self, path: str) -> str:
        """``path`` made absolute on the remote side (relative to the login directory)."""
        if path.startswith("/"):
            return os.path.normpath(path)
        return os.path.normpath(os.path.join(self.sftp().normalize("."), path))

    def close(self) -> bool:
        """Close the SFTP session and the connection; True if one was open."""
        was_open = self._client is not None
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None
        return was_open


class SSHInteractiveLoginChannel(SSHChannel):
    """An ``SSHChannel`` that logs in by keyboard-interactive authentication.

    For hosts with two-factor or one-time-password logins: each server prompt is answered
    with ``password`` when it asks for a password and one was given, otherwise it is shown
    on the terminal and read with ``getpass``. Host keys are checked as for ``SSHChannel``.
    """

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        password: str | None = None,
        script_dir: str | None = None,
        envs: dict[str, str] | None = None,
        port: int = 22,
        host_keys_filename: str | None = None,
    ):
        super().__init__(
            hostname,
            username=username,
            password=password,
            script_dir=script_dir,
            envs=envs,
            port=port,
            host_keys_filename=host_keys_filename,
        )

    def _authenticate(self, client: paramiko.SSHClient) -> None:
        transport = self._checked_transport(client)
        username = self.username or getpass.getuser()

        def answer(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
            replies = []
            for prompt, _echo in prompts:
                if self.password is not None and "password" in prompt.lower():
                    replies.append(self.password)
                else:
                    replies.append(getpass.getpass(prompt))
            return replies

        try:
            transport.auth_interactive(username, answer)
        except paramiko.BadAuthenticationType:
            if self.password is None:
                self.password = getpass.getpass(f"{username}@{self.hostname}'s password: ")
            transport.auth_password(username, self.password)
        client._transport = transport
