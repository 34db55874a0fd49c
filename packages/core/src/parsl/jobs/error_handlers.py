"""Block error handlers: when an executor whose blocks keep failing should give up.

A handler is ``handler(executor, status)``, where ``status`` maps every block id the executor
launched to its last known :class:`~parsl.jobs.states.JobStatus`. It is called after each
status poll (and after a block fails to launch); to give up, it calls
``executor.set_bad_state_and_fail_all(exception)``, which fails every outstanding and later
task of that executor. Pass one as ``block_error_handler=`` to an executor built on
:class:`~parsl.executors.status_handling.BlockProviderExecutor` (``True`` means
:func:`simple_error_handler`, ``False`` :func:`noop_error_handler`); to set the window of
:func:`windowed_error_handler`, bind it: ``functools.partial(windowed_error_handler, threshold=5)``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from parsl.jobs.errors import TooManyBlockFailuresError
from parsl.jobs.states import JobState, JobStatus

if TYPE_CHECKING:
    from parsl.executors.status_handling import BlockProviderExecutor

__all__ = ["describe_failures", "noop_error_handler", "simple_error_handler", "windowed_error_handler"]

logger = logging.getLogger(__name__)

#: states that count as a failed block
FAILED_STATES = frozenset({JobState.FAILED, JobState.MISSING})
#: how many failed blocks an error message describes in full (with their output)
DESCRIBED_BLOCKS = 5


def noop_error_handler(
    executor: BlockProviderExecutor, status: dict[str, JobStatus], threshold: int = 3
) -> None:
    """Never give up, however many blocks fail."""


def simple_error_handler(
    executor: BlockProviderExecutor, status: dict[str, JobStatus], threshold: int = 3
) -> None:
    """Give up once every block has failed and there are at least ``threshold`` blocks.

    When the provider has ``init_blocks``, the threshold is ``max(1, init_blocks)`` instead:
    the executor fails as soon as all of its initial blocks have failed.
    """
    init_blocks = getattr(executor.provider, "init_blocks", None)
    if init_blocks is not None:
        threshold = max(1, init_blocks)
    failed = [bid for bid, s in status.items() if s.state in FAILED_STATES]
    if len(status) >= threshold and len(failed) == len(status):
        _give_up(executor, status, failed)


def windowed_error_handler(
    executor: BlockProviderExecutor, status: dict[str, JobStatus], threshold: int = 3
) -> None:
    """Give up once the ``threshold`` most recently launched blocks have all failed."""
    if threshold < 1:
        raise ValueError(f"windowed_error_handler(threshold={threshold!r}): use a positive number of blocks")
    window = sorted(status, key=_launch_order)[-threshold:]
    failed = [bid for bid in window if status[bid].state in FAILED_STATES]
    if len(failed) == threshold:
        _give_up(executor, status, failed)


def _launch_order(block_id: str) -> tuple[int, int, str]:
    # block ids are decimal counters; anything else sorts after them, by name
    text = str(block_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _give_up(executor: BlockProviderExecutor, status: dict[str, JobStatus], failed: list[str]) -> None:
    error = TooManyBlockFailuresError(executor, describe_failures(status, failed))
    executor.set_bad_state_and_fail_all(error)


def describe_failures(status: dict[str, JobStatus], failed: list[str]) -> str:
    """Say which blocks failed and why, quoting the output of the most recent ones."""
    ordered = sorted(failed, key=_launch_order)
    lines = [f"{len(ordered)} of {len(status)} blocks failed"]
    if len(ordered) > DESCRIBED_BLOCKS:
        earlier = ", ".join(ordered[:-DESCRIBED_BLOCKS])
        lines.append(f"(the last {DESCRIBED_BLOCKS} are described; blocks {earlier} failed too)")
    for bid in ordered[-DESCRIBED_BLOCKS:]:
        js = status[bid]
        lines.append(f"block {bid}: {js}")
        if js.exit_code is not None:  # in Parsl's words, which software searches for
            lines.append(f"EXIT CODE: {js.exit_code}")
        for name in ("stdout", "stderr"):
            path = getattr(js, f"{name}_path", None)
            if path:
                summary = getattr(js, f"{name}_summary", None)
                lines.append(f"{name} of block {bid} ({path}):")
                lines.append((summary or "").rstrip() or "<empty>")
    return "\n".join(lines)
