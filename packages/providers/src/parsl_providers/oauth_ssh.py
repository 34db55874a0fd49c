"""``OAuthSSHChannel``: an SSH channel that logs in with an OAuth access token (Parsl 0.8/0.9).

The token comes from the ``oauth-ssh`` package (``find_access_token(hostname)``, after
``oauth-ssh login``) and answers the server's keyboard-interactive prompts.
"""

from __future__ import annotations

import logging
from typing import Any

import paramiko

from parsl_providers.ssh import SSHChannel

logger = logging.getLogger(__name__)

__all__ = ["OAuthSSHChannel"]


def _token_finder(hostname: str) -> Any:
    try:
        from oauth_ssh.oauth_ssh_token import find_access_token
    except ImportError as e:
        raise ImportError(
            "OAuthSSHChannel needs the 'oauth-ssh' package: pip install oauth-ssh, then "
            f"run 'oauth-ssh login {hostname}'"
        ) from e
    return find_access_token


class OAuthSSHChannel(SSHChannel):
    """SSH to ``hostname`` authenticating with the OAuth token ``oauth-ssh`` holds for it.

    Host keys are checked as for ``SSHChannel``; commands and files work the same way, and
    it connects (and reads the token) on its first command. A missing ``oauth-ssh`` package
    is reported when the channel is made.
    """

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        script_dir: str | None = None,
        envs: dict[str, str] | None = None,
        port: int = 22,
        host_keys_filename: str | None = None,
    ):
        super().__init__(
            hostname,
            username=username,
            script_dir=script_dir,
            envs=envs,
            port=port,
            host_keys_filename=host_keys_filename,
        )
        _token_finder(hostname)  # no network: only checks that oauth-ssh is installed

    def _authenticate(self, client: paramiko.SSHClient) -> None:
        import getpass

        token = _token_finder(self.hostname)(self.hostname)
        transport = self._checked_transport(client)

        def answer(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[Any]:
            return [token for _ in prompts]

        transport.auth_interactive(self.username or getpass.getuser(), answer)
        client._transport = transport
