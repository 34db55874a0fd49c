"""Packed task runs (``parsl.monitoring.packed``): a task's running and running-ended messages
in one bytes item, read back exactly, and turned into plain dicts for a Parsl-style queue."""

from __future__ import annotations

import gc
import queue

import pytest

from parsl.executors.base import ParslExecutor
from parsl.monitoring.packed import TASK_RUN, expand, is_packed, pack_task_run, unpack_task_run


@pytest.mark.parametrize("block_id", [None, "", "12", "blöck\u00e9"])
def test_a_packed_run_reads_back_exactly(block_id):
    item = pack_task_run(2**40, 3, 1_700_000_000.125, 1_700_000_001.5, "höst-1.example", block_id)
    assert is_packed(item) and not gc.is_tracked(item)
    assert len(item) < 80  # two dicts pickled are several times this
    assert unpack_task_run(item) == (2**40, 3, 1_700_000_000.125, 1_700_000_001.5, "höst-1.example", block_id)
    assert TASK_RUN.unpack_from(item) == (2**40, 3, 1_700_000_000.125, 1_700_000_001.5)


def test_expand_gives_the_two_messages_in_place_and_leaves_plain_batches_alone():
    plain = [{"type": "resource", "task_id": 1}]
    assert expand(plain, "r") is plain
    batch = [{"type": "node"}, pack_task_run(5, 0, 10.0, 11.0, "h", "b"), {"type": "resource", "task_id": 5}]
    assert expand(batch, "r") == [
        {"type": "node"},
        {
            "type": "task_running",
            "run_id": "r",
            "task_id": 5,
            "try_id": 0,
            "timestamp": 10.0,
            "hostname": "h",
            "block_id": "b",
        },
        {"type": "task_running_ended", "run_id": "r", "task_id": 5, "try_id": 0, "timestamp": 11.0},
        {"type": "resource", "task_id": 5},
    ]


class _Quiet(ParslExecutor):
    def start(self):
        pass

    def submit(self, func, resource_specification, *args, **kwargs):
        raise NotImplementedError

    def shutdown(self):
        pass


def test_an_executor_puts_plain_dicts_on_a_queue_and_hands_a_callable_the_batch_as_it_is():
    ex = _Quiet()
    ex.label, ex.run_id = "q", "run-9"
    ex.monitoring_messages = queue.Queue()
    ex.send_monitoring_messages([pack_task_run(1, 2, 3.0, 4.0, "h", None)])
    got = [ex.monitoring_messages.get_nowait() for _ in range(2)]
    assert [(m["type"], m["run_id"], m["task_id"], m["try_id"]) for m in got] == [
        ("task_running", "run-9", 1, 2),
        ("task_running_ended", "run-9", 1, 2),
    ]
    assert got[0]["hostname"] == "h" and got[0]["block_id"] is None
    assert ex.monitoring_messages.empty()
    batches = []
    ex.monitoring_messages = batches.append
    packed = pack_task_run(1, 2, 3.0, 4.0, "h", None)
    ex.send_monitoring_messages([packed])
    assert batches == [[packed]]
