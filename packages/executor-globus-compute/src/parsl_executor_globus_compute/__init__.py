"""parsl-executor-globus-compute: Parsl's GlobusComputeExecutor for parslcore.

``from parsl.executors import GlobusComputeExecutor`` resolves here when this package is
installed (``pip install 'parslcore[globus-compute]'``).
"""

from __future__ import annotations

__version__ = "2026.11.21"

from parsl_executor_globus_compute.executor import GlobusComputeExecutor

__all__ = ["GlobusComputeExecutor", "__version__"]
