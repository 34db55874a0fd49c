"""``DataFlowKernelLoader``: the process's current DataFlowKernel (what ``parsl.load`` makes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parsl.config import Config
from parsl.errors import ConfigurationError, NoDataFlowKernelError

if TYPE_CHECKING:
    from parsl.dataflow.dflow import DataFlowKernel

__all__ = ["ConfigAlreadyLoadedError", "DataFlowKernelLoader"]


class ConfigAlreadyLoadedError(ConfigurationError, RuntimeError):
    """``parsl.load()`` was called while another configuration is loaded."""


class DataFlowKernelLoader:
    """Holds the process's current DataFlowKernel (what ``parsl.load`` creates)."""

    _dfk: DataFlowKernel | None = None

    @classmethod
    def clear(cls) -> None:
        """Forget the current DataFlowKernel (without cleaning it up)."""
        cls._dfk = None

    @classmethod
    def load(cls, config: Config | None = None) -> DataFlowKernel:
        """Create the DataFlowKernel for ``config`` (default: threads) and make it current.

        A kernel whose ``cleanup()`` has started no longer holds the slot: it cannot run tasks,
        and a cleanup still shutting executors down elsewhere must not block the next load.
        """
        current = cls._dfk
        if current is not None and not getattr(current, "cleanup_called", False):
            raise ConfigAlreadyLoadedError(
                "Config has already been loaded: call parsl.dfk().cleanup() and parsl.clear() "
                "before loading another, or use `with parsl.load(config):`"
            )
        from parsl.dataflow.dflow import DataFlowKernel

        cls._dfk = DataFlowKernel(config)
        return cls._dfk

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        """Wait for every task of the current DataFlowKernel."""
        cls.dfk().wait_for_current_tasks()

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The current DataFlowKernel; raises NoDataFlowKernelError when none is loaded."""
        if cls._dfk is None:
            # Parsl's exact message and attributes (scripts compare them): no note added
            raise NoDataFlowKernelError("Must first load config")
        return cls._dfk
