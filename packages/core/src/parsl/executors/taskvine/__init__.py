"""``parsl.executors.taskvine``: Parsl's TaskVine executor (not shipped by parslcore) and its
two configuration dataclasses (real, so configurations that build them load)."""

from __future__ import annotations

from parsl.executors.taskvine.executor import TaskVineExecutor
from parsl.executors.taskvine.factory_config import TaskVineFactoryConfig
from parsl.executors.taskvine.manager_config import TaskVineManagerConfig

__all__ = ["TaskVineExecutor", "TaskVineFactoryConfig", "TaskVineManagerConfig"]
