"""parsl-monitoring: Monitoring hub (SQLAlchemy database) and the parsl-visualize dashboard for parslcore."""
from __future__ import annotations

__version__ = "2026.11.21"
