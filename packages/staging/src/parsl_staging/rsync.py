"""rsync staging (``parsl.data_provider.rsync``): copy local Files to and from workers.

``RSyncStaging("user@submit-host")`` handles ``file://`` URLs and plain paths: inside each
task, before the app, ``rsync`` copies the file from the submit host to the worker; after
the app, outputs go back the same way, to the absolute path the File names on the submit
host. rsync runs over ssh: configure the connection in ``~/.ssh/config`` (keys, port,
known hosts), with the ``RSYNC_RSH`` environment variable, or with ``ssh_command=``
(``RSyncStaging("testhost", ssh_command="ssh -F /path/ssh_config")``). The worker needs
``rsync`` and ``ssh``; the submit host needs ``rsync`` and an ssh server.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from parsl.data_provider.files import File
from parsl_staging.errors import RSyncStagingError
from parsl_staging.transfer import TransferStaging

if TYPE_CHECKING:
    from parsl.data_provider.data_manager import DataManager

__all__ = ["RSyncStaging", "rsync_fetch", "rsync_send"]

#: ``host``, ``user@host``, ``user@[ipv6]``: no path, port or spaces
_HOST = re.compile(r"^([^@\s:/\[\]-][^@\s:/\[\]]*@)?(\[[0-9A-Fa-f:.]+\]|[^@\s:/\[\]-][^@\s:/\[\]]*)$")


def _local_arg(path: str) -> str:
    # rsync reads "name:..." as a remote path; a relative local path must not look like one
    return path if os.path.isabs(path) else os.path.join(".", path)


def _run_rsync(hostname: str, ssh_command: str | None, src: str, dst: str, remote: str) -> None:
    cmd = ["rsync", "--times"]
    if ssh_command:
        cmd += ["-e", ssh_command]
    cmd += [src, dst]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError as e:
        raise RSyncStagingError(f"{hostname}:{remote}", f"cannot run rsync: {e}") from e
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        tail = " | ".join(err[-3:]) if err else "no output"
        raise RSyncStagingError(
            f"{hostname}:{remote}", f"{shlex.join(cmd)} exited with {proc.returncode}: {tail}"
        )


def rsync_fetch(file: File, hostname: str, remote_path: str, ssh_command: str | None = None) -> None:
    """Copy ``hostname:remote_path`` to ``file.local_path``."""
    assert file.local_path is not None
    _run_rsync(hostname, ssh_command, f"{hostname}:{remote_path}", _local_arg(file.local_path), remote_path)


def rsync_send(file: File, hostname: str, remote_path: str, ssh_command: str | None = None) -> None:
    """Copy ``file.local_path`` to ``hostname:remote_path``."""
    assert file.local_path is not None
    if not os.path.exists(file.local_path):
        raise RSyncStagingError(
            f"{hostname}:{remote_path}", f"the app did not write its output {file.local_path!r}"
        )
    _run_rsync(hostname, ssh_command, _local_arg(file.local_path), f"{hostname}:{remote_path}", remote_path)


class RSyncStaging(TransferStaging):
    """Stage local (``file://`` and plain path) Files to and from workers with rsync over ssh.

    Used in an executor's ``storage_access`` (it replaces local-file staging there), typically
    with ``HTTPInTaskStaging()`` and ``FTPInTaskStaging()`` for remote URLs::

        HighThroughputExecutor(storage_access=[HTTPInTaskStaging(), FTPInTaskStaging(),
                                               RSyncStaging("me@submit.example.org")])

    :param hostname: how workers reach the submit host: ``host`` or ``user@host`` (an ssh
        config ``Host`` alias works).
    :param ssh_command: remote shell for rsync's ``-e``, e.g. ``"ssh -p 2222 -i key"``. When
        None, rsync uses ``RSYNC_RSH`` or plain ``ssh`` (and so ``~/.ssh/config``).
    """

    PLUGIN_NAME = "rsync"
    schemes = frozenset({"file"})
    in_task = True

    def __init__(self, hostname: str, ssh_command: str | Sequence[str] | None = None) -> None:
        if not isinstance(hostname, str) or not _HOST.match(hostname):
            raise ValueError(
                f"RSyncStaging(hostname=...) needs the host workers rsync with, as "
                f"'host' or 'user@host' (no path, port or spaces), not {hostname!r}; "
                f"set a port in ~/.ssh/config or with ssh_command='ssh -p PORT'"
            )
        if ssh_command is not None and not isinstance(ssh_command, str):
            ssh_command = shlex.join(ssh_command)
        if ssh_command is not None and not ssh_command.strip():
            raise ValueError("ssh_command= is empty; leave it None to use RSYNC_RSH or ssh")
        self.hostname = hostname
        self.ssh_command = ssh_command

    def _remote(self, file: File) -> str:
        # the File's path as the submit host sees it: relative paths are relative to the
        # workflow's working directory
        return os.path.abspath(file.path)

    def fetcher(self, dm: DataManager, executor: str, file: File) -> Any:
        return functools.partial(
            rsync_fetch, hostname=self.hostname, remote_path=self._remote(file), ssh_command=self.ssh_command
        )

    def sender(self, dm: DataManager, executor: str, file: File) -> Any:
        return functools.partial(
            rsync_send, hostname=self.hostname, remote_path=self._remote(file), ssh_command=self.ssh_command
        )
