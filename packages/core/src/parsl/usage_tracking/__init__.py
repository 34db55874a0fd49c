"""Usage tracking levels (``Config(usage_tracking=...)``); parslcore never sends usage data."""

from __future__ import annotations
