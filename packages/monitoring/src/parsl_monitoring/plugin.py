"""The entry-point plugin of parsl-monitoring.

It registers nothing globally: a ``MonitoringHub`` observes only the DataFlowKernel whose
``Config(monitoring=...)`` names it, by being registered with that kernel's plugin manager.
Listing this module makes ``python -m parsl plugins`` show the package as installed.
"""

from __future__ import annotations
