"""Periodic polling of block-based executors, driving the scaling strategy.

Runs one timer thread per DataFlowKernel, and only when some executor manages blocks
through a provider (has ``status_polling_interval`` and ``poll_facade``). Each tick calls
``callback`` (``poll`` unless replaced, as Parsl's tests do to watch the strategy run).
``close()`` stops the timer and then scales in every block of every executor that is not in a
bad state, so a DataFlowKernel's blocks are given back before its executors shut down.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from parsl.utils import Timer

__all__ = ["JobStatusPoller"]

logger = logging.getLogger(__name__)


def _is_block_executor(ex: Any) -> bool:
    return getattr(ex, "provider", None) is not None and hasattr(ex, "poll_facade")


class JobStatusPoller:
    """Poll block executors every ``strategy_period`` seconds and apply the strategy."""

    def __init__(
        self, *, strategy: str | None, strategy_period: float, max_idletime: float, dfk: Any = None
    ) -> None:
        from parsl.jobs.strategy import Strategy

        self.executors: list[Any] = []
        self.strategy = Strategy(strategy=strategy, max_idletime=max_idletime)
        self.strategy_period = strategy_period
        self._timer: Timer | None = None
        #: what each tick calls; replace it to wrap the poll (Parsl's ``Timer.callback``)
        self.callback = self.poll

    def add_executors(self, executors: Sequence[Any]) -> None:
        block_executors = [ex for ex in executors if _is_block_executor(ex)]
        if not block_executors:
            return
        self.executors.extend(block_executors)
        self.strategy.add_executors(block_executors)
        if self._timer is None:
            self._timer = Timer(self._tick, interval=self.strategy_period, name="parsl-job-status-poller")

    def _tick(self) -> None:
        self.callback()

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

    def close(self, timeout: float | None = None) -> None:
        """Stop polling, then scale in the blocks of every executor not in a bad state."""
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        for ex in self.executors:
            if getattr(ex, "bad_state_is_set", False):
                logger.warning("Not scaling in executor %s: it is in a bad state", ex.label)
                continue
            try:
                _scale_in_all(ex)
            except Exception:
                logger.exception("Scaling in the blocks of executor %s failed", ex.label)


def _scale_in_all(ex: Any) -> None:
    status = getattr(ex, "status_facade", None)
    if not isinstance(status, dict):
        return
    live = [b for b, s in status.items() if not s.terminal]
    if live:
        logger.info("Scaling in %d blocks of executor %s", len(live), ex.label)
        ex.scale_in_facade(len(live))
