"""parsl-providers: Batch-scheduler and cloud execution providers, launchers and SSH channels for parslcore."""
from __future__ import annotations

__version__ = "2026.11.21"
