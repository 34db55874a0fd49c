"""``LocalChannel``: a channel that runs commands on this machine (deprecated, still works)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import warnings

from parsl.channels.base import Channel
from parsl.channels.errors import FileCopyException
from parsl.utils import RepresentationMixin

logger = logging.getLogger(__name__)

__all__ = ["LocalChannel"]


class LocalChannel(Channel, RepresentationMixin):
    """Run commands with bash on the local host, in ``userhome``, with extra ``envs``.

    Channels are deprecated: providers no longer need one. ``LocalChannel`` is kept
    so that older configurations (``LocalProvider(channel=LocalChannel())``) run.
    """

    def __init__(
        self,
        userhome: str = ".",
        envs: dict[str, str] = {},  # noqa: B006
        script_dir: str | None = None,
    ):
        warnings.warn(
            "LocalChannel is deprecated: channels are no longer needed and are ignored by "
            "providers. Remove channel=LocalChannel() from your configuration.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.userhome = os.path.abspath(userhome)
        self.hostname = "localhost"
        self.envs = envs
        self._script_dir = script_dir

    @property
    def script_dir(self) -> str | None:
        return self._script_dir

    @script_dir.setter
    def script_dir(self, value: str | None) -> None:
        self._script_dir = value

    def _env(self, envs: dict[str, str] | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.envs)
        if envs:
            env.update(envs)
        return env

    def _start(self, cmd: str, envs: dict[str, str] | None, output: int) -> subprocess.Popen[bytes]:
        """``cmd`` under bash in this channel's home and its own process group (so it can be killed whole)."""
        return subprocess.Popen(
            ["/bin/bash", "-c", cmd],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            cwd=self.userhome,
            env=self._env(envs),
            start_new_session=True,
        )

    def execute_wait(
        self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Run ``cmd`` with bash and return ``(exit_code, stdout, stderr)``.

        If it runs longer than ``walltime`` seconds its whole process group is
        killed and ``subprocess.TimeoutExpired`` is raised.
        """
        proc = self._start(cmd, envs, subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=walltime or None)
        except subprocess.TimeoutExpired:
            logger.warning("Command timed out after %s s, killing it: %s", walltime, cmd)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def execute_no_wait(
        self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None
    ) -> tuple[int, subprocess.Popen[bytes]]:
        """Start ``cmd`` in its own process group and return ``(pid, Popen)`` without waiting."""
        proc = self._start(cmd, envs, subprocess.DEVNULL)
        return proc.pid, proc

    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy ``source`` into ``dest_dir`` (nothing to do if it is already there)."""
        dest = os.path.join(dest_dir, os.path.basename(source))
        if os.path.abspath(os.path.dirname(source)) != os.path.abspath(dest_dir):
            try:
                shutil.copyfile(source, dest)
                os.chmod(dest, 0o700)
            except OSError as e:
                raise FileCopyException(e, self.hostname) from e
        return dest

    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """Copy ``remote_source`` into ``local_dir``: both sides are this machine."""
        return self.push_file(remote_source, local_dir)

    def close(self) -> bool:
        """Nothing to release: returns False."""
        return False

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def makedirs(self, path: str, mode: int = 0o511, exist_ok: bool = False) -> None:
        os.makedirs(path, mode, exist_ok)

    def abspath(self, path: str) -> str:
        return os.path.abspath(path)
