"""An example third-party Parsl executor: each task runs in one of a pool of worker subprocesses.

See the README of ``examples/plugin-executor`` for how the pieces fit together.
"""

from __future__ import annotations

from parsl_example_executor.executor import SubprocessExecutor, WorkerLost

__all__ = ["SubprocessExecutor", "WorkerLost"]
