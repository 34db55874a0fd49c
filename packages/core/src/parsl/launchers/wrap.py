"""How providers call a launcher: ``wrap_command(launcher, command, ..., script_dir)``.

Parsl calls every launcher as ``launcher(command, tasks_per_node, nodes_per_block,
script_dir)``; providers here do the same, through :func:`wrap_command`, so a user launcher
that writes files gets the provider's script directory. Launchers written for older Parsl
take only the first three arguments: they are still called (without ``script_dir``), with a
DeprecationWarning naming the parameter to add.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["takes_script_dir", "wrap_command"]

logger = logging.getLogger(__name__)


def takes_script_dir(launcher: Callable[..., Any]) -> bool:
    """Whether ``launcher`` can be called with a fourth positional argument, ``script_dir``."""
    try:
        signature = inspect.signature(launcher)
    except (TypeError, ValueError):  # no signature to read (a builtin): assume Parsl's call
        return True
    try:
        signature.bind("", 1, 1, "")
    except TypeError:
        return False
    return True


def wrap_command(
    launcher: Callable[..., str],
    command: str,
    tasks_per_node: int,
    nodes_per_block: int,
    script_dir: str | None,
) -> str:
    """``launcher(command, tasks_per_node, nodes_per_block, script_dir)``: the block's shell text."""
    if takes_script_dir(launcher):
        return launcher(command, tasks_per_node, nodes_per_block, script_dir or "")
    warnings.warn(
        f"launcher {launcher!r} takes no script_dir argument: Parsl calls launchers as "
        f"launcher(command, tasks_per_node, nodes_per_block, script_dir); add a "
        f"script_dir='' parameter to its __call__",
        DeprecationWarning,
        stacklevel=3,
    )
    logger.debug("Calling launcher %r without script_dir", launcher)
    return launcher(command, tasks_per_node, nodes_per_block)
