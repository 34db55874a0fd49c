"""The resource table, built from the sample's fields, is still Parsl's column for column."""

from __future__ import annotations

from sqlalchemy import DateTime, Float, Integer, Text

from parsl_monitoring.db import RESOURCE

# Parsl's resource table (parsl/monitoring/db_manager.py): the contract with databases Parsl
# wrote and with the notebooks and dashboards that read them.
PARSL_RESOURCE_COLUMNS = [
    ("try_id", Integer, False),
    ("task_id", Integer, False),
    ("run_id", Text, False),
    ("timestamp", DateTime, False),
    ("resource_monitoring_interval", Float, True),
    ("psutil_process_pid", Integer, True),
    ("psutil_process_memory_percent", Float, True),
    ("psutil_process_children_count", Float, True),
    ("psutil_process_time_user", Float, True),
    ("psutil_process_time_system", Float, True),
    ("psutil_process_memory_virtual", Float, True),
    ("psutil_process_memory_resident", Float, True),
    ("psutil_process_disk_read", Float, True),
    ("psutil_process_disk_write", Float, True),
    ("psutil_process_status", Text, True),
    ("psutil_cpu_num", Text, True),
    ("psutil_process_num_ctx_switches_voluntary", Float, True),
    ("psutil_process_num_ctx_switches_involuntary", Float, True),
]


def test_the_resource_table_is_parsls_column_for_column():
    ours = [(c.name, type(c.type), c.nullable) for c in RESOURCE.columns]
    assert ours == PARSL_RESOURCE_COLUMNS
    assert [c.name for c in RESOURCE.primary_key.columns] == ["try_id", "task_id", "run_id", "timestamp"]
