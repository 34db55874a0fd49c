"""Elastic scaling strategies: ``simple``, ``htex_auto_scale`` and ``none``.

Every strategy, ``none`` included, launches an executor's ``init_blocks`` on its first pass
over that executor, unless the executor already has blocks (our DataFlowKernel launches them
right after ``start()``; software that drives executors itself may too): so an engine that
runs a ``JobStatusPoller`` without a DataFlowKernel gets its initial blocks as on Parsl, and
nobody gets them twice. ``simple`` and ``htex_auto_scale`` then go on, in that same pass, to
size the executor to its load.

The strategy reads what Parsl's reads, so executors (and test doubles of them) built for
Parsl's strategy work here: ``outstanding`` (an int, or a method returning one),
``status_facade`` (block id -> ``JobStatus``; RUNNING and PENDING blocks count as active),
``workers_per_node``, ``bad_state_is_set``, ``scale_out_facade(n)``,
``scale_in_facade(n, max_idletime=...)`` and ``provider`` with ``min_blocks``,
``max_blocks``, ``parallelism``, ``nodes_per_block`` and ``init_blocks``.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

from parsl.jobs.states import JobState

__all__ = ["Strategy"]

logger = logging.getLogger(__name__)

STRATEGIES = ("none", "simple", "htex_auto_scale")


class Strategy:
    """Decide, every poll, how many blocks each executor should have."""

    def __init__(self, *, strategy: str | None, max_idletime: float) -> None:
        if strategy is None:
            warnings.warn(
                "strategy=None is deprecated: use strategy='none'", DeprecationWarning, stacklevel=2
            )
            strategy = "none"
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy={strategy!r}: choose one of {', '.join(map(repr, STRATEGIES))}")
        self.strategy = strategy
        self.max_idletime = max_idletime
        self._idle_since: dict[str, float | None] = {}
        self._first_pass_done: set[str] = set()

    def add_executors(self, executors: Sequence[Any]) -> None:
        for ex in executors:
            self._idle_since[ex.label] = None

    def strategize(self, executors: Sequence[Any]) -> None:
        for ex in executors:
            if ex.label not in self._first_pass_done:
                if self.strategy != "none" and getattr(ex, "bad_state_is_set", False):
                    continue
                self._first_pass_done.add(ex.label)
                self._launch_initial_blocks(ex)
            if self.strategy == "none" or getattr(ex, "bad_state_is_set", False):
                continue
            self._scale(ex)

    @staticmethod
    def _launch_initial_blocks(ex: Any) -> None:
        init_blocks = getattr(ex.provider, "init_blocks", 0) or 0
        launched = getattr(ex, "blocks_to_job_id", None)
        if init_blocks <= 0 or (isinstance(launched, dict) and launched):
            return
        logger.info("Executor %s: launching %d initial block(s)", ex.label, init_blocks)
        ex.scale_out_facade(init_blocks)

    def _scale(self, ex: Any) -> None:
        prov = ex.provider
        label = ex.label
        outstanding = ex.outstanding
        active_tasks = int(outstanding() if callable(outstanding) else outstanding)
        status = ex.status_facade
        running = sum(1 for s in status.values() if s.state == JobState.RUNNING)
        pending = sum(1 for s in status.values() if s.state == JobState.PENDING)
        active_blocks = running + pending
        slots_per_block = ex.workers_per_node * prov.nodes_per_block
        active_slots = active_blocks * slots_per_block
        parallelism = prov.parallelism
        min_blocks, max_blocks = prov.min_blocks, prov.max_blocks
        logger.debug(
            "Executor %s: %d tasks, %d slots, %d running and %d pending blocks",
            label,
            active_tasks,
            active_slots,
            running,
            pending,
        )

        if active_tasks > 0:
            self._idle_since[label] = None
        else:
            # idle: give back blocks above min_blocks once idle for max_idletime
            if active_blocks <= min_blocks:
                return
            since = self._idle_since.get(label)
            if since is None:
                since = self._idle_since[label] = time.monotonic()
            idle_for = time.monotonic() - since
            # at least max_idletime: with max_idletime=0 an idle executor scales in on this very
            # pass (a strict '>' depended on the clock having ticked since the line above)
            if idle_for >= self.max_idletime:
                logger.info(
                    "Executor %s idle for %.1fs: scaling in %d blocks",
                    label,
                    idle_for,
                    active_blocks - min_blocks,
                )
                ex.scale_in_facade(active_blocks - min_blocks)
            return

        if active_slots / active_tasks < parallelism:
            # more load than slots: more blocks, up to max_blocks
            if active_blocks >= max_blocks:
                return
            missing_slots = math.ceil(active_tasks * parallelism - active_slots)
            more = min(math.ceil(missing_slots / slots_per_block), max_blocks - active_blocks)
            logger.info(
                "Executor %s has %d tasks on %d blocks: scaling out %d",
                label,
                active_tasks,
                active_blocks,
                more,
            )
            ex.scale_out_facade(more)
        elif active_slots == 0:
            # tasks but no slots (parallelism 0): one block, if max_blocks allows
            if active_blocks < max_blocks:
                logger.info("Executor %s has %d tasks and no blocks: scaling out 1", label, active_tasks)
                ex.scale_out_facade(1)
        elif active_slots > active_tasks and self.strategy == "htex_auto_scale":
            # more slots than tasks: give back whole idle blocks (only HTEX can tell which)
            if not hasattr(ex, "connected_managers") or active_blocks <= min_blocks:
                return
            spare_slots = math.floor(active_slots - active_tasks * parallelism)
            fewer = min(math.floor(spare_slots / slots_per_block), active_blocks - min_blocks)
            if fewer > 0:
                logger.info(
                    "Executor %s has %d tasks on %d slots: scaling in up to %d idle blocks",
                    label,
                    active_tasks,
                    active_slots,
                    fewer,
                )
                ex.scale_in_facade(fewer, max_idletime=self.max_idletime)
