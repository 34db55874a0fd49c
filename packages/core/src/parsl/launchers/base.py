"""The ``Launcher`` interface: wrap a worker command so a block runs the right number of copies."""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod

from parsl.utils import RepresentationMixin

logger = logging.getLogger(__name__)

__all__ = ["Launcher"]


class Launcher(RepresentationMixin, metaclass=ABCMeta):
    """Turns a command into the shell text a provider puts in its job script.

    A launcher is called as ``launcher(command, tasks_per_node, nodes_per_block, script_dir)``
    and returns bash source that starts ``tasks_per_node`` copies of ``command`` on
    each of the block's ``nodes_per_block`` nodes; files it writes go in ``script_dir``
    (the provider's script directory; ``""`` for the job's working directory). ``debug``
    makes the script echo what it does.
    """

    def __init__(self, debug: bool = True):
        self.debug = debug

    @abstractmethod
    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        """Return the bash text that launches ``command``."""
