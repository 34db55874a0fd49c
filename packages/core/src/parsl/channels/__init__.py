"""Channels (deprecated): how providers used to reach the machine running their scheduler.

``LocalChannel`` is built in. ``SSHChannel``, ``SSHInteractiveLoginChannel`` and
``OAuthSSHChannel`` come from the optional ``parsl-providers[ssh]`` package and
are imported on first use.
"""

from __future__ import annotations

from parsl._lazy import OptionalName, lazy_module_getattr, providers
from parsl.channels.base import Channel
from parsl.channels.local.local import LocalChannel

__all__ = ["Channel", "LocalChannel"]

OPTIONAL_CHANNELS: dict[str, OptionalName] = {
    name: providers(name, "ssh") for name in ("SSHChannel", "SSHInteractiveLoginChannel", "OAuthSSHChannel")
}

__getattr__ = lazy_module_getattr(__name__, OPTIONAL_CHANNELS)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(OPTIONAL_CHANNELS))
