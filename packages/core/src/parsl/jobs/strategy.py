"""Elastic scaling strategies: ``simple``, ``htex_auto_scale`` and ``none``.

Every strategy, ``none`` included, launches an executor's ``init_blocks`` on its first pass
over that executor, unless the executor already has blocks (our DataFlowKernel launches them
right after ``start()``; software that drives executors itself may too): so an engine that
runs a ``JobStatusPoller`` without a DataFlowKernel gets its initial blocks as on Parsl, and
nobody gets them twice.

Works on executors that manage blocks (``outstanding``, ``connected_workers`` or
``workers_per_node``, ``scale_out_facade``, ``scale_in_facade``, ``provider`` with
``min_blocks``/``max_blocks``/``parallelism``/``nodes_per_block``).
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Sequence

__all__ = ["Strategy"]

logger = logging.getLogger(__name__)


class Strategy:
    """Decide, every poll, how many blocks each executor should have."""

    def __init__(self, *, strategy: str | None, max_idletime: float) -> None:
        self.strategy = strategy or "none"
        self.max_idletime = max_idletime
        self._idle_since: dict[str, float | None] = {}
        self._first_pass_done: set[str] = set()

    def add_executors(self, executors: Sequence[Any]) -> None:
        for ex in executors:
            self._idle_since[ex.label] = None

    def strategize(self, executors: Sequence[Any]) -> None:
        for ex in executors:
            if getattr(ex, "bad_state_is_set", False):
                continue
            if ex.label not in self._first_pass_done:
                self._first_pass_done.add(ex.label)
                self._launch_initial_blocks(ex)
                continue
            if self.strategy != "none":
                self._scale(ex)

    @staticmethod
    def _launch_initial_blocks(ex: Any) -> None:
        init_blocks = getattr(ex.provider, "init_blocks", 0) or 0
        if init_blocks <= 0 or getattr(ex, "blocks_to_job_id", None):
            return
        logger.info("Executor %s: launching %d initial block(s)", ex.label, init_blocks)
        ex.scale_out_facade(init_blocks)

    def _scale(self, ex: Any) -> None:
        prov = ex.provider
        active_tasks = ex.outstanding
        running = ex.status_facade_counts() if hasattr(ex, "status_facade_counts") else None
        active_blocks = running if running is not None else len(getattr(ex, "blocks_to_job_id", {}))
        slots_per_block = max(1, int(getattr(ex, "workers_per_node", 1)) * prov.nodes_per_block)
        parallelism = prov.parallelism
        min_blocks, max_blocks = prov.min_blocks, prov.max_blocks
        now = time.time()
        if active_tasks == 0:
            if active_blocks <= min_blocks:
                self._idle_since[ex.label] = None
                return
            since = self._idle_since.get(ex.label)
            if since is None:
                self._idle_since[ex.label] = now
                return
            if now - since > self.max_idletime:
                excess = active_blocks - min_blocks
                logger.info("Executor %s idle for %.0fs: scaling in %d blocks", ex.label, now - since, excess)
                ex.scale_in_facade(excess, max_idletime=self.max_idletime)
                self._idle_since[ex.label] = None
            return
        self._idle_since[ex.label] = None
        wanted = math.ceil(active_tasks * parallelism / slots_per_block) if parallelism else 0
        wanted = max(min_blocks, min(max_blocks, wanted))
        if active_blocks < wanted:
            logger.info("Executor %s has %d tasks on %d blocks: scaling out %d", ex.label, active_tasks,
                        active_blocks, wanted - active_blocks)
            ex.scale_out_facade(wanted - active_blocks)
        elif self.strategy == "htex_auto_scale" and active_blocks > wanted and active_tasks < \
                (active_blocks - 1) * slots_per_block:
            excess = active_blocks - max(wanted, min_blocks)
            if excess > 0:
                ex.scale_in_facade(excess, max_idletime=self.max_idletime)
