"""Both resource samplers build the same message, and the writer and the schema agree with it."""

from __future__ import annotations

import os

import psutil

from parsl_monitoring import remote
from parsl_monitoring.db import RESOURCE

EXPECTED_KEYS = {"type", "timestamp", *remote.RESOURCE_FIELDS}


def test_psutil_sampler_fills_every_field():
    msg = remote.sample_process(psutil.Process(os.getpid()), {}, 2.0)
    assert set(msg) == EXPECTED_KEYS
    assert msg["type"] == "resource" and msg["resource_monitoring_interval"] == 2.0
    assert msg["psutil_process_pid"] == os.getpid() and msg["psutil_process_memory_resident"] > 0


def test_fast_sampler_fills_every_field():
    msg = remote._fast_sample({}, 2.0)
    if msg is None:  # only where /proc is missing, or this test process has children
        assert not os.path.exists("/proc/self/statm") or psutil.Process().children()
        return
    assert set(msg) == EXPECTED_KEYS
    assert msg["psutil_process_children_count"] == 0.0 and msg["psutil_process_status"] == "running"


def test_counters_are_counted_from_the_base():
    now = dict(user=5.0, system=3.0, vms=100.0, rss=50.0, read=10.0, write=20.0, vol=7.0, invol=2.0)
    base = dict(user=1.0, system=1.0, read=4.0, write=5.0, vol=3.0, invol=1.0)
    msg = remote.resource_message(1.0, base, now, pid=1, memory_percent=None, children=2)
    assert (msg["psutil_process_time_user"], msg["psutil_process_time_system"]) == (4.0, 2.0)
    assert (msg["psutil_process_disk_read"], msg["psutil_process_disk_write"]) == (6.0, 15.0)
    assert msg["psutil_process_num_ctx_switches_voluntary"] == 4.0
    assert msg["psutil_process_num_ctx_switches_involuntary"] == 1.0
    assert (msg["psutil_process_memory_virtual"], msg["psutil_process_memory_resident"]) == (100.0, 50.0)
    assert msg["psutil_process_children_count"] == 2.0


def test_every_field_is_a_resource_column():
    columns = {c.name for c in RESOURCE.columns}
    assert set(remote.RESOURCE_FIELDS) <= columns
    assert {"task_id", "try_id"} <= columns


def test_a_long_task_not_due_a_sample_counts_its_cpu_from_its_start():
    """A task that starts when no sample is due keeps only getrusage's result; the sampler
    thread makes the baseline from it, so CPU used before the first tick still counts."""
    import time

    sampler = remote._sampler()
    assert sampler is not None
    sent = []
    sampler.last_sample = time.monotonic()  # sampled just now: this task is not due one
    sampler.begin("r", 1, 0, time.time(), 0.4, sent.extend)
    end = time.process_time() + 0.8
    while time.process_time() < end:  # busy: the CPU to be counted, much of it before a tick
        pass
    final = sampler.end(time.time())
    assert [m["type"] for m in sent if m["type"] != "resource"] == ["task_running"]
    assert final[-1]["type"] == "task_running_ended"  # "running" went out while it ran
    samples = [m for m in sent + final if m.get("type") == "resource"]
    assert samples, "a task running past the interval is sampled"
    # the on-the-way sample, taken after 0.4 s, holds at least that much CPU from the start
    assert max(m["psutil_process_time_user"] + m["psutil_process_time_system"] for m in samples) >= 0.35
