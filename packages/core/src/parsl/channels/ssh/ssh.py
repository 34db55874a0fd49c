"""Old import path ``parsl.channels.ssh.ssh``.

``SSHChannel`` is loaded lazily from the optional ``parsl-providers[ssh]`` package.
"""

from __future__ import annotations

from parsl._lazy import lazy_module_getattr
from parsl.channels import OPTIONAL_CHANNELS

__all__: list[str] = []

__getattr__ = lazy_module_getattr(__name__, {"SSHChannel": OPTIONAL_CHANNELS["SSHChannel"]})
