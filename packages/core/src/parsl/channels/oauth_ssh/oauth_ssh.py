"""Old import path ``parsl.channels.oauth_ssh.oauth_ssh``.

``OAuthSSHChannel`` is loaded lazily from the optional ``parsl-providers[ssh]`` package.
"""

from __future__ import annotations

from parsl._lazy import lazy_module_getattr
from parsl.channels import OPTIONAL_CHANNELS

__all__: list[str] = []

__getattr__ = lazy_module_getattr(__name__, {"OAuthSSHChannel": OPTIONAL_CHANNELS["OAuthSSHChannel"]})
