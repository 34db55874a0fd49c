"""Task states: their display order, which are final, and the colour each is drawn in."""

from __future__ import annotations

__all__ = [
    "FAILED",
    "FINAL",
    "LIFE_ORDER",
    "STATES",
    "STATE_COLORS",
    "app_color",
    "state_color",
    "state_rank",
]

# Finished states first, then backwards through a task's life: charts stack in this order, so
# finished work piles up at the bottom and waiting work floats on top (a cumulative flow chart).
STATES = (
    "exec_done",
    "memo_done",
    "failed",
    "dep_fail",
    "fail_retryable",
    "joining",
    "running_ended",
    "running",
    "launched",
    "pending",
    "unsched",
)

# The order a task passes through its states, to order status rows with equal timestamps.
LIFE_ORDER = (
    "unsched",
    "pending",
    "launched",
    "running",
    "running_ended",
    "joining",
    "fail_retryable",
    "exec_done",
    "memo_done",
    "dep_fail",
    "failed",
)

FINAL = ("exec_done", "memo_done", "failed", "dep_fail")
FAILED = ("failed", "dep_fail")

STATE_COLORS = {
    "unsched": "#c7c7c7",
    "pending": "#9e9e9e",
    "launched": "#9ecae1",
    "running": "#3182bd",
    "running_ended": "#08519c",
    "joining": "#9467bd",
    "fail_retryable": "#f7b6d2",
    "memo_done": "#8fbc3f",
    "exec_done": "#2ca02c",
    "dep_fail": "#ff7f0e",
    "failed": "#d62728",
}

# Distinct colours for apps (Okabe-Ito, then Tableau), repeated when there are more apps.
_APP_PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
)


def state_color(state: str | None) -> str:
    """The colour of a task state (grey for one this dashboard does not know)."""
    return STATE_COLORS.get(state or "", "#7f7f7f")


def state_rank(state: str | None) -> int:
    """The position of a state in STATES (unknown states last)."""
    try:
        return STATES.index(state or "")
    except ValueError:
        return len(STATES)


def app_color(index: int) -> str:
    """The colour of the ``index``-th app of a workflow (apps sorted by name)."""
    return _APP_PALETTE[index % len(_APP_PALETTE)]
