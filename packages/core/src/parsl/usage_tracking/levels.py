"""The values of ``Config(usage_tracking=...)``.

parslcore accepts them for compatibility but sends nothing: every level behaves as DISABLED.
"""

from __future__ import annotations

__all__ = ["DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"]

DISABLED = 0  #: no usage data
LEVEL_1 = 1  #: Parsl: Python and Parsl versions, platform
LEVEL_2 = 2  #: Parsl: level 1 plus the names of the configured components
LEVEL_3 = 3  #: Parsl: level 2 plus task and run counts at shutdown
