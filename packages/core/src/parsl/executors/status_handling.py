"""``BlockProviderExecutor``: the base of executors whose workers run in provider blocks.

It keeps the block bookkeeping (block id -> job id, last known status), launches and
cancels blocks through the provider, polls their status for the scaling strategy and
hands failures to the ``block_error_handler``.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable

from parsl.errors import type_check_error
from parsl.executors.base import ParslExecutor
from parsl.executors.errors import BadStateException, ScalingFailed
from parsl.jobs.error_handlers import noop_error_handler, simple_error_handler, windowed_error_handler
from parsl.jobs.states import JobState, JobStatus
from parsl.providers.base import ExecutionProvider

logger = logging.getLogger(__name__)

__all__ = ["BlockProviderExecutor", "noop_error_handler", "simple_error_handler", "windowed_error_handler"]

#: ``handler(executor, status)``: see :mod:`parsl.jobs.error_handlers`
ErrorHandler = Callable[["BlockProviderExecutor", "dict[str, JobStatus]"], None]


class BlockProviderExecutor(ParslExecutor):
    """An executor that gets its workers by asking a provider for blocks.

    Subclasses implement ``_get_launch_command(block_id)``, ``outstanding``,
    ``workers_per_node`` and ``_fail_all(exception)``, and may override ``scale_in`` to pick
    which blocks to give back (the default cancels the newest).
    """

    def __init__(
        self,
        *,
        provider: ExecutionProvider,
        block_error_handler: bool | ErrorHandler = True,
        label: str | None = None,
    ) -> None:
        super().__init__(label=label)
        self.provider = provider
        #: the handler in use (a function, as in Parsl: ``True`` and ``False`` are resolved here)
        self.block_error_handler: ErrorHandler = _resolve_error_handler(block_error_handler, label)
        self.blocks_to_job_id: dict[str, str] = {}
        self.job_ids_to_block: dict[str, str] = {}
        self._status: dict[str, JobStatus] = {}
        self._block_counter = 0
        self._block_lock = threading.RLock()
        self._last_poll = 0.0
        self._bad_state: BaseException | None = None
        #: set once the executor is in a bad state (Parsl's attribute; ``bad_state_is_set`` reads it)
        self._executor_bad_state = threading.Event()

    # ------------------------------------------------------------- subclass API
    @abstractmethod
    def _get_launch_command(self, block_id: str) -> str:
        """The command a block runs to start this executor's workers."""

    @property
    @abstractmethod
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""

    @property
    @abstractmethod
    def workers_per_node(self) -> int | float:
        """Worker slots each node of a block provides."""

    def _fail_all(self, exception: BaseException) -> None:
        """Fail every outstanding task with ``exception`` (subclasses hold the futures)."""

    # ------------------------------------------------------------------ state
    @property
    def provider(self) -> ExecutionProvider:
        """The provider blocks come from (a class-level property, as in Parsl, so that
        ``Mock(spec=SomeExecutor)`` in downstream tests has it)."""
        return self._provider

    @provider.setter
    def provider(self, value: ExecutionProvider) -> None:
        self._provider = value

    @property
    def bad_state_is_set(self) -> bool:
        return self._bad_state is not None

    @property
    def executor_exception(self) -> BaseException | None:
        return self._bad_state

    def set_bad_state_and_fail_all(self, exception: BaseException) -> None:
        """Mark the executor unusable: every outstanding and future task fails with ``exception``."""
        if self._bad_state is None:
            logger.error("Executor %s is in a bad state: %s", self.label, exception)
            self._bad_state = exception
            self._executor_bad_state.set()
        # tasks fail with a BadStateException whatever broke the executor, as in Parsl
        self._fail_all(
            exception if isinstance(exception, BadStateException) else BadStateException(self, exception)
        )

    @property
    def status_polling_interval(self) -> float:
        interval: float = getattr(self.provider, "status_polling_interval", 5) if self.provider else 0
        return interval

    # ----------------------------------------------------------------- blocks
    def scale_out_facade(self, n: int) -> list[str]:
        """Launch ``n`` blocks; return their ids. A failed submission counts as a failed block."""
        new: list[str] = []
        for _ in range(n):
            with self._block_lock:
                block_id = str(self._block_counter)
                self._block_counter += 1
            try:
                job_id = self.provider.submit(
                    self._get_launch_command(block_id), 1, job_name=f"parsl.{self.label}.block-{block_id}"
                )
            except Exception as e:
                logger.exception("Executor %s failed to launch block %s", self.label, block_id)
                self._set_block_status(block_id, JobStatus(JobState.FAILED, message=f"launch failed: {e}"))
                self._handle_errors()
                if self.bad_state_is_set:
                    raise ScalingFailed(self, f"could not launch block {block_id}: {e}") from e
                continue
            with self._block_lock:
                self.blocks_to_job_id[block_id] = str(job_id)
                self.job_ids_to_block[str(job_id)] = block_id
                self._set_block_status(block_id, JobStatus(JobState.PENDING))
            logger.info("Executor %s launched block %s as job %s", self.label, block_id, job_id)
            new.append(block_id)
        return new

    def scale_out(self, blocks: int = 1) -> list[str]:
        return self.scale_out_facade(blocks)

    def _active_blocks(self) -> list[str]:
        return [b for b, s in self._status.items() if not s.terminal and b in self.blocks_to_job_id]

    @property
    def status_facade(self) -> dict[str, JobStatus]:
        """The last known status of every block, keyed by block id, as the poller last saw it
        (Parsl's name: the live dict the scaling strategy reads, not a copy)."""
        return self._status

    def _get_block_and_job_ids(self) -> tuple[list[str], list[str]]:
        """``(block ids, their job ids)`` of every block launched, in the same order."""
        with self._block_lock:
            pairs = list(self.blocks_to_job_id.items())
        return [b for b, _ in pairs], [j for _, j in pairs]

    def status_facade_counts(self) -> int:
        """Blocks not yet in a terminal state (what the strategy counts as running)."""
        return len(self._active_blocks())

    def _choose_blocks_to_scale_in(self, n: int, max_idletime: float | None) -> list[str]:
        return self._active_blocks()[-n:] if n > 0 else []

    def scale_in(
        self, blocks: int | None = None, block_ids: list[str] | None = None, max_idletime: float | None = None
    ) -> list[str]:
        """Cancel ``blocks`` blocks (or exactly ``block_ids``); return the ids cancelled."""
        if block_ids:
            chosen = [str(b) for b in block_ids]
        else:
            chosen = self._choose_blocks_to_scale_in(blocks or 0, max_idletime)
        if not chosen:
            return []
        self._before_cancel(chosen)
        job_ids = [self.blocks_to_job_id[b] for b in chosen if b in self.blocks_to_job_id]
        try:
            self.provider.cancel(job_ids)
        except Exception:
            logger.exception("Executor %s: provider failed to cancel blocks %s", self.label, chosen)
        for b in chosen:
            self._set_block_status(b, JobStatus(JobState.SCALED_IN))
        logger.info("Executor %s scaled in blocks %s", self.label, chosen)
        return chosen

    def scale_in_facade(self, n: int, max_idletime: float | None = None) -> list[str]:
        return self.scale_in(n, max_idletime=max_idletime)

    def _before_cancel(self, block_ids: list[str]) -> None:
        """Hook run before blocks are cancelled (e.g. stop sending them tasks)."""

    def status(self) -> dict[str, JobStatus]:
        """The status of every block this executor launched, keyed by block id: blocks not yet
        known to have ended are asked of the provider now (as in Parsl), the others keep their
        last known status. Unlike ``poll_facade`` this records nothing."""
        fresh = dict(self._status)
        active = self._active_blocks()
        if active and self.provider is not None:
            statuses = self.provider.status([self.blocks_to_job_id[b] for b in active])
            for block_id, status in zip(active, statuses, strict=False):
                fresh[block_id] = self._adjust_status(block_id, status)
        return fresh

    def _adjust_status(self, block_id: str, status: JobStatus) -> JobStatus:
        """Hook: what a block's status from the provider (or a failed launch) means for this
        executor; HighThroughputExecutor turns blocks whose workers never connected MISSING."""
        return status

    def poll_facade(self) -> None:
        """Refresh block statuses from the provider (at most once per polling interval)."""
        now = time.monotonic()
        if now - self._last_poll < self.status_polling_interval * 0.9:
            return
        self._last_poll = now
        self._refresh_status()
        self._handle_errors()

    def _refresh_status(self) -> None:
        active = self._active_blocks()
        if not active:
            return
        job_ids = [self.blocks_to_job_id[b] for b in active]
        statuses = self.provider.status(job_ids)
        for block_id, status in zip(active, statuses, strict=False):
            if self._status.get(block_id, JobStatus(JobState.UNKNOWN)).state == JobState.SCALED_IN:
                continue
            self._set_block_status(block_id, status)

    def _set_block_status(self, block_id: str, status: JobStatus) -> None:
        """Record a block's status; a change is reported to monitoring as a ``block`` message."""
        status = self._adjust_status(block_id, status)
        old = self._status.get(block_id)
        self._status[block_id] = status
        if self.monitoring_messages is not None and (old is None or old.state != status.state):
            self.send_monitoring_messages(
                [
                    {
                        "type": "block",
                        "block_id": block_id,
                        "job_id": self.blocks_to_job_id.get(block_id),
                        "status": status.state.name,
                        "timestamp": time.time(),
                    }
                ]
            )

    def handle_errors(self, status: dict[str, JobStatus]) -> None:
        """Give ``status`` (every block's last known status) to the ``block_error_handler``."""
        self.block_error_handler(self, status)

    def _handle_errors(self) -> None:
        if self.block_error_handler is not noop_error_handler and not self.bad_state_is_set:
            try:
                self.handle_errors(dict(self._status))
            except Exception:
                logger.exception("block_error_handler of executor %s raised", self.label)

    def _cancel_all_blocks(self) -> None:
        active = self._active_blocks()
        if not active:
            return
        self._refresh_status()
        active = self._active_blocks()
        if active:
            self.scale_in(block_ids=active)


def _resolve_error_handler(handler: bool | ErrorHandler | None, label: str | None) -> ErrorHandler:
    if handler is True:
        return simple_error_handler
    if handler is False or handler is None:
        return noop_error_handler
    if not callable(handler):
        raise type_check_error(
            f"{label or 'executor'}: block_error_handler={handler!r}: use True (give up when every block "
            f"failed), False (never give up) or a function (executor, status) -> None such as "
            f"parsl.jobs.error_handlers.windowed_error_handler"
        )
    return handler
