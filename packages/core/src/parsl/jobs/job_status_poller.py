"""Periodic polling of block-based executors, driving the scaling strategy.

Runs one timer thread per DataFlowKernel, and only when some executor manages blocks
through a provider (has ``status_polling_interval`` and ``poll_facade``).
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

from parsl.utils import Timer

__all__ = ["JobStatusPoller"]

logger = logging.getLogger(__name__)


def _is_block_executor(ex: Any) -> bool:
    return getattr(ex, "provider", None) is not None and hasattr(ex, "poll_facade")


class JobStatusPoller:
    """Poll block executors every ``strategy_period`` seconds and apply the strategy."""

    def __init__(self, *, strategy: str | None, strategy_period: float, max_idletime: float,
                 dfk: Any = None) -> None:
        from parsl.jobs.strategy import Strategy
        self.executors: list[Any] = []
        self.strategy = Strategy(strategy=strategy, max_idletime=max_idletime)
        self.strategy_period = strategy_period
        self._timer: Timer | None = None

    def add_executors(self, executors: Sequence[Any]) -> None:
        block_executors = [ex for ex in executors if _is_block_executor(ex)]
        if not block_executors:
            return
        self.executors.extend(block_executors)
        self.strategy.add_executors(block_executors)
        if self._timer is None:
            self._timer = Timer(self.poll, interval=self.strategy_period, name="parsl-job-status-poller")

    def poll(self) -> None:
        for ex in self.executors:
            try:
                ex.poll_facade()
            except Exception:
                logger.exception("Polling executor %s failed", ex.label)
        try:
            self.strategy.strategize(self.executors)
        except Exception:
            logger.exception("Scaling strategy failed")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.close()
            self._timer = None
