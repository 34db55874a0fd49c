"""Monitoring radios (``parsl.monitoring.radios``): Parsl's ways of carrying monitoring messages
from where tasks run back to the workflow.

parslcore's monitoring does not need them: worker telemetry travels over each executor's own
connection (see ``docs/compatibility.md``, "Monitoring radios"). The classes exist so that
configurations naming them load unchanged; executors accept a ``remote_monitoring_radio=`` and
record it. The senders and receivers are real where that is simple (UDP datagrams, files in a
directory, a multiprocessing queue), so code that drives a radio directly still works.
"""

from __future__ import annotations

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig

__all__ = ["MonitoringRadioReceiver", "MonitoringRadioSender", "RadioConfig"]
