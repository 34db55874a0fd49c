"""The ``Channel`` interface: run commands and move files on the machine a provider talks to.

Channels are deprecated in Parsl (providers now run their commands locally);
the interface remains so that configurations and plugins written for older
versions keep working.
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod

logger = logging.getLogger(__name__)

__all__ = ["Channel"]


class Channel(metaclass=ABCMeta):
    """Runs shell commands and copies files on behalf of a provider.

    Commands started through a channel should get their own process group, so a
    provider can stop a command and everything it started.
    """

    @abstractmethod
    def execute_wait(
        self, cmd: str, walltime: float | None = 0, envs: dict[str, str] | None = None
    ) -> tuple[int, str | None, str | None]:
        """Run ``cmd`` and wait at most ``walltime`` seconds (0 or None: no limit).

        Returns ``(exit_code, stdout, stderr)``.
        """

    @property
    @abstractmethod
    def script_dir(self) -> str | None:
        """Directory, on the channel's side, where job scripts are put."""

    @script_dir.setter  # noqa: B027
    def script_dir(self, value: str | None) -> None:
        """The data-flow kernel sets this to a directory of the run."""

    @abstractmethod
    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy local file ``source`` into ``dest_dir`` on the channel's side; return the new path."""

    @abstractmethod
    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """Copy ``remote_source`` from the channel's side into local ``local_dir``; return the new path."""

    @abstractmethod
    def close(self) -> bool:
        """Release connections and credentials; return True if something was closed."""

    @abstractmethod
    def makedirs(self, path: str, mode: int = 0o511, exist_ok: bool = False) -> None:
        """Create directory ``path`` and any missing parents."""

    @abstractmethod
    def isdir(self, path: str) -> bool:
        """True if ``path`` is an existing directory."""

    @abstractmethod
    def abspath(self, path: str) -> str:
        """Absolute form of ``path`` on the channel's side."""
