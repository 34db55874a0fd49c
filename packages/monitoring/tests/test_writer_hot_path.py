"""What monitoring leaves on a task's hot path in the workflow process stays cheap.

Queued state changes are plain-value status rows (the garbage collector stops tracking them,
so a backlog of them does not slow the kernel's collections), thread-executor tasks report
straight to the writer, and the ids a task carries to its wrapper are plain ints (which HTEX
pickles with pickle rather than cloudpickle).
"""

from __future__ import annotations

import gc
import socket
import sqlite3
import sys
import time
from pathlib import Path

from parsl.dataflow.states import States
from parsl.dataflow.taskrecord import TaskRecord
from parsl_monitoring.remote import TASK_KEY, TRY_KEY, MonitoredFunction
from parsl_monitoring.writer import DatabaseWriter

sys.path.insert(0, str(Path(__file__).parent))
from writer_fixtures import bare_task, workflow_row


def _task(tid: int) -> TaskRecord:
    return bare_task(tid, time.time())


def _frames(sent: list[tuple]) -> list[tuple]:
    """The feeder's batch frames with their two snapshot parts merged: ``(kind, segments, snapshots)``
    (and no new names: these tasks are queued with ``task_changed``, whose new tasks are read)."""
    from parsl_monitoring.task_values import plain_snapshots

    return [
        (kind, segments, {**snapshots, **dict(plain_snapshots(plain))})
        for kind, segments, snapshots, plain, names in sent
        if not names or _unexpected(names)
    ]


def _unexpected(names: list) -> bool:
    raise AssertionError(f"new names sent for tasks queued with task_changed: {names}")


def _writer(tmp_path) -> DatabaseWriter:
    writer = DatabaseWriter(f"sqlite:///{tmp_path}/monitoring.db", "hot-run")
    writer.workflow_started(workflow_row("hot-run", str(tmp_path), name="hot"))
    return writer


def test_queued_state_changes_are_rows_the_collector_stops_tracking(tmp_path):
    writer = _writer(tmp_path)
    task = _task(3)
    t = time.time()
    writer.task_changed(task, States.pending, t)
    writer.task_changed(task, States.launched, t + 1)
    gc.collect()
    assert list(writer.events) == [(3, "pending", t, "hot-run", 0), (3, "launched", t + 1, "hot-run", 0)]
    assert not any(gc.is_tracked(ev) for ev in writer.events)


def test_thread_tasks_report_to_the_writer_and_every_row_is_written(tmp_path):
    writer = _writer(tmp_path)
    task = _task(5)
    wrapper = MonitoredFunction(lambda x: x + 1, "hot-run", None)
    wrapper.local = writer.local_events()
    writer.task_changed(task, States.pending, time.time())
    writer.task_changed(task, States.launched, time.time())
    kwargs = {TASK_KEY: task.id, TRY_KEY: task.try_id}
    assert all(type(v) is int for v in kwargs.values())
    assert wrapper(1, **kwargs) == 2
    task.time_returned = time.time()
    writer.task_changed(task, States.exec_done, time.time())
    writer._flush()
    assert writer.batches_failed == 0
    with sqlite3.connect(f"{tmp_path}/monitoring.db") as db:
        states = [r[0] for r in db.execute("select task_status_name from status order by timestamp")]
        trow = db.execute(
            "select hostname, task_executor, task_try_time_running, task_try_time_returned from try"
        ).fetchall()
        tasks = db.execute("select task_id, task_func_name, task_time_returned from task").fetchall()
    assert states == ["pending", "launched", "running", "running_ended", "exec_done"]
    assert len(trow) == 1 and trow[0][0] == socket.gethostname() and trow[0][1] == "threads"
    assert trow[0][2] is not None and trow[0][3] is not None
    assert len(tasks) == 1 and tasks[0][:2] == (5, "f") and tasks[0][2] is not None
    # the writer forgot the finished task
    assert not writer._live and not writer._try_rows and not writer._records and not writer._depends


def test_writer_process_queues_state_changes_as_packed_bytes_that_unpack_to_status_rows():
    from parsl_monitoring.writer_process import WriterProcess, unpack_events

    feeder = WriterProcess("sqlite:///unused.db", "packed-run")  # not started: its queue only
    task = _task(7)
    task.try_id = 2
    t = time.time()
    feeder.task_changed(task, States.pending, t)
    feeder.task_ran(7, 2, "running", t + 1)
    feeder.task_ran(7, 2, "running_ended", t + 2)
    feeder.task_changed(task, States.exec_done, t + 3)
    # no object per event: 24 bytes each at the end of one bytearray
    assert not feeder.events and type(feeder.packed) is bytearray and len(feeder.packed) == 4 * 24
    assert unpack_events(bytes(feeder.packed), "packed-run") == [
        (7, "pending", t, "packed-run", 2),
        (7, "running", t + 1, "packed-run", 2),
        (7, "running_ended", t + 2, "packed-run", 2),
        (7, "exec_done", t + 3, "packed-run", 2),
    ]


def test_a_thread_task_wrapper_queues_the_same_packed_events_as_task_ran_without_a_call():
    from parsl_monitoring.writer_process import WriterProcess, unpack_events

    feeder = WriterProcess("sqlite:///unused.db", "local-run")  # not started: its queue only
    wrapper = MonitoredFunction(lambda x: x * 2, "local-run", None)
    wrapper.local = feeder.local_events()
    before = time.time()
    assert wrapper(21, **{TASK_KEY: 9, TRY_KEY: 3}) == 42
    after = time.time()
    rows = unpack_events(bytes(feeder.packed), "local-run")
    assert [(r[0], r[1], r[4]) for r in rows] == [(9, "running", 3), (9, "running_ended", 3)]
    assert before <= rows[0][2] <= rows[1][2] <= after
    # byte for byte what the writer's own task_ran queues
    feeder.task_ran(9, 3, "running", rows[0][2])
    feeder.task_ran(9, 3, "running_ended", rows[1][2])
    assert feeder.packed[:48] == feeder.packed[48:] and len(feeder.packed) == 96
    # a failing task still says it ended, and its exception is the caller's
    feeder.packed.clear()

    def boom():
        raise ValueError("app failed")

    failing = MonitoredFunction(boom, "local-run", None)
    failing.local = feeder.local_events()
    try:
        failing(**{TASK_KEY: 10, TRY_KEY: 0})
    except ValueError as e:
        assert str(e) == "app failed"
    else:
        raise AssertionError("the app's exception was swallowed")
    assert [r[1] for r in unpack_events(bytes(feeder.packed), "local-run")] == ["running", "running_ended"]


def test_a_plain_task_is_read_once_when_new_and_the_others_at_each_event_until_they_end():
    from parsl_monitoring.writer_process import WriterProcess, unpack_events

    feeder = WriterProcess("sqlite:///unused.db", "fast-run")
    sent = []
    feeder._send = sent.append  # type: ignore[method-assign]
    t = time.time()
    tasks = [_task(i) for i in range(300, 306)]
    tasks[5].kwargs = {"x": 1}  # not plain: read at each event until its final one
    for task in tasks:
        feeder.task_changed(task, States.pending, t)
        feeder.task_changed(task, States.launched, t)
    assert feeder.new_tasks == tasks and not feeder._records  # registered once, when new
    for task in tasks[:3]:
        feeder.task_ran(task.id, 0, "running", t)
        feeder.task_ran(task.id, 0, "running_ended", t)
    feeder.task_changed(tasks[0], States.exec_done, t)
    feeder.task_changed(tasks[1], States.failed, t)  # a failure: read again
    feeder.task_changed(tasks[2], States.fail_retryable, t)  # retried: not the end of it
    feeder.task_ran(999, 0, "running", t)  # a task the kernel never told us of: no snapshot
    feeder._send_batch()
    ((kind, segments, snapshots),) = _frames(sent)
    assert kind == "batch" and len(segments) == 1 and type(segments[0]) is bytes
    assert len(unpack_events(segments[0], "fast-run")) == 6 * 2 + 3 * 2 + 3 + 1
    assert set(snapshots) == {t.id for t in tasks}  # every new task once
    assert not feeder.new_tasks
    # kept: the retried task (its row changes again) and the one that is not plain
    assert set(feeder._records) == {302, 305}
    # the next batch: the plain tasks' later events travel alone; the others are read again
    sent.clear()
    feeder.task_ran(303, 0, "running", t)
    feeder.task_changed(tasks[4], States.exec_done, t)
    feeder.task_changed(tasks[5], States.exec_done, t)
    feeder.task_changed(tasks[2], States.pending, t)
    feeder._send_batch()
    ((_, segments, snapshots),) = _frames(sent)
    assert set(snapshots) == {302, 305}
    assert set(feeder._records) == {302}  # 305 ended


def test_the_writer_takes_a_plain_task_return_time_from_its_final_event(tmp_path):
    from parsl_monitoring.task_values import task_snapshot

    writer = _writer(tmp_path)
    task = _task(8)
    t = time.time()
    # as the writer process gets them: the snapshot read when the task was new, then events
    writer._records[8] = task_snapshot(task, ())
    writer.events.extend([(8, "pending", t, "hot-run", 0), (8, "launched", t + 1, "hot-run", 0)])
    writer._flush()
    writer.events.append((8, "exec_done", t + 2, "hot-run", 0))
    writer._flush()
    assert writer.batches_failed == 0 and not writer._records
    with sqlite3.connect(f"{tmp_path}/monitoring.db") as db:
        ((returned,),) = db.execute("select task_time_returned from task where task_id = 8").fetchall()
    from datetime import datetime

    assert returned == str(datetime.fromtimestamp(t + 2))


def test_plain_tasks_travel_as_one_flat_list_and_read_as_their_snapshots():
    from parsl_monitoring.task_values import task_snapshot, with_return_time
    from parsl_monitoring.writer_process import WriterProcess

    feeder = WriterProcess("sqlite:///unused.db", "flat-run")
    sent = []
    feeder._send = sent.append  # type: ignore[method-assign]
    t = time.time()
    tasks = [_task(i) for i in range(6)]
    tasks[1].kwargs = {"x": 1}
    tasks[2].fail_history = ["ValueError('no')"]
    tasks[2].fail_count = 1
    deps = [tasks[0].app_fu]  # set by the kernel after the pending event, kept by the hook
    tasks[4].memoize, tasks[4].hashsum = True, "abc"  # memoized: read again (its hash comes later)
    tasks[5].time_returned = t + 5
    for task in tasks:
        feeder.task_changed(task, States.pending, t)
    tasks[3].depends = deps
    feeder.task_changed(tasks[3], States.launched, t)
    tasks[3].depends = ()  # cleared by the kernel as the task ends
    feeder._send_batch()
    ((_, _, snapshots, plain, names),) = sent
    assert names == []  # queued with task_changed: every new task is read
    assert set(snapshots) == {1, 2, 3, 4}  # one tuple each
    assert len(plain) == 2 * 4 and all(type(v) is not tuple for v in plain)
    ((_, _, merged),) = _frames(sent)
    expected = {task.id: task_snapshot(task, feeder._depends.get(task.id) or task.depends) for task in tasks}
    # a plain task's return time comes with its final event, not with its snapshot
    expected[5] = with_return_time(expected[5], None)
    assert merged == expected
    assert merged[4][:3] == ("f", True, "abc")


def test_writer_process_batch_keeps_order_and_snapshots_new_tasks():
    from parsl_monitoring.writer_process import WriterProcess, unpack_events

    feeder = WriterProcess("sqlite:///unused.db", "order-run")
    sent = []
    feeder._send = sent.append  # type: ignore[method-assign]
    a, b = _task(1), _task(2)
    t = time.time()
    feeder.task_changed(a, States.pending, t)
    feeder.add_messages("htex", [{"type": "block", "block_id": "0"}])
    feeder.task_changed(b, States.pending, t + 1)
    feeder.task_ran(2, 0, "running", t + 2)
    feeder.task_changed(a, States.exec_done, t + 3)
    feeder._send_batch()
    ((kind, segments, snapshots),) = _frames(sent)
    assert kind == "batch"
    assert [type(s) for s in segments] == [bytes, tuple, bytes]
    assert unpack_events(segments[0], "order-run") == [(1, "pending", t, "order-run", 0)]
    assert segments[1] == ("messages", "htex", [{"type": "block", "block_id": "0"}])
    assert [row[:2] for row in unpack_events(segments[2], "order-run")] == [
        (2, "pending"),
        (2, "running"),
        (1, "exec_done"),
    ]
    assert set(snapshots) == {1, 2}
    # both plain: read once, nothing kept
    assert not feeder._records and not feeder.new_tasks
    assert not feeder.events and not feeder.packed


def test_message_batches_keep_their_place_among_events_and_wait_for_their_marker():
    from parsl_monitoring.writer_process import _MARKER, WriterProcess, unpack_events

    feeder = WriterProcess("sqlite:///unused.db", "marker-run")
    sent = []
    feeder._send = sent.append  # type: ignore[method-assign]
    t = time.time()
    feeder.add_messages("htex", [{"n": 1}])  # first of all
    feeder.task_changed(_task(1), States.pending, t)
    feeder.add_messages("htex", [{"n": 2}])
    feeder.add_messages(None, [{"n": 3}])  # two in a row
    feeder.task_changed(_task(2), States.pending, t)
    feeder.add_messages("htex", [{"n": 4}])  # last of all
    # a batch whose marker another thread has not put yet: it waits for the next send
    feeder.events.append(("messages", "htex", [{"n": 5}]))
    feeder._send_batch()
    ((_, segments, _),) = _frames(sent)
    shape = [s[2][0]["n"] if type(s) is tuple else [r[0] for r in unpack_events(s, "m")] for s in segments]
    assert shape == [1, [1], 2, 3, [2], 4]
    assert list(feeder.events) == [("messages", "htex", [{"n": 5}])]
    sent.clear()
    feeder.put_event(_MARKER)
    feeder._send_batch()
    ((_, segments, snapshots),) = _frames(sent)
    assert segments == [("messages", "htex", [{"n": 5}])] and snapshots == {}
    assert not feeder.events and not feeder.packed


def test_a_worker_wrapper_sends_a_short_task_as_one_packed_run_that_the_writer_makes_rows_of(
    tmp_path, monkeypatch
):
    from parsl.monitoring.packed import unpack_task_run
    from parsl_monitoring import remote

    class Channel:  # a worker's channel: the last messages are held for the result
        def __init__(self):
            self.now, self.held = [], []

        def __call__(self, messages):
            self.now += messages

        def hold(self, messages):
            self.held += messages

    monkeypatch.setenv("PARSL_WORKER_BLOCK_ID", "blk-3")
    monkeypatch.setattr(remote, "_BLOCK", (None, None))  # read the variable again
    channel = Channel()
    wrapper = MonitoredFunction(lambda x: x * 2, "hot-run", None)
    wrapper.parsl_monitoring_send = channel
    before = time.time()
    assert wrapper(21, **{TASK_KEY: 9, TRY_KEY: 1}) == 42
    assert channel.now == [] and len(channel.held) == 1 and type(channel.held[0]) is bytes
    tid, try_id, started, ended, host, block = unpack_task_run(channel.held[0])
    assert (tid, try_id, host, block) == (9, 1, socket.gethostname(), "blk-3")
    assert before <= started <= ended <= time.time()

    writer = _writer(tmp_path)
    task = _task(9)
    task.try_id = 1
    writer.task_changed(task, States.launched, before)
    writer.events.append(("messages", "htex", channel.held))
    task.time_returned = time.time()
    writer.task_changed(task, States.exec_done, time.time())
    writer._flush()
    assert writer.batches_failed == 0
    with sqlite3.connect(f"{tmp_path}/monitoring.db") as db:
        states = db.execute(
            "select task_status_name, timestamp from status where try_id = 1 order by timestamp"
        ).fetchall()
        trow = db.execute(
            "select hostname, block_id, task_try_time_running from try where task_id = 9"
        ).fetchall()
    assert [s for s, _ in states] == ["launched", "running", "running_ended", "exec_done"]
    assert len(trow) == 1 and trow[0][:2] == (socket.gethostname(), "blk-3") and trow[0][2] is not None


def test_new_plain_task_events_name_their_app_by_index_and_unpack_to_pending_rows_and_snapshots():
    from parsl_monitoring.task_values import new_snapshot
    from parsl_monitoring.writer_process import (
        NEW_CODE,
        WriterProcess,
        pack_event,
        pack_new_launched,
        unpack_events,
    )

    feeder = WriterProcess("sqlite:///unused.db", "new-run")
    sent = []
    feeder._send = sent.append  # type: ignore[method-assign]
    t = time.time()
    a = feeder.name_of(("inc", "threads"))
    assert feeder.name_of(("inc", "threads")) == a  # one index per pair
    b = feeder.name_of(("inc", "htex"))
    assert (a, b) == (0, 1)
    feeder.put_event(pack_new_launched(1, a << 8 | NEW_CODE, t, t + 0.5))
    feeder.put_event(pack_event(2, b << 8 | NEW_CODE, t + 1))
    feeder._send_batch()
    feeder.put_event(pack_event(3, a << 8 | NEW_CODE, t + 2))
    feeder._send_batch()
    # each batch carries the names added since the one before, with or before their events
    assert [frame[4] for frame in sent] == [[("inc", "threads"), ("inc", "htex")], []]
    assert [frame[2] for frame in sent] == [{}, {}] and [frame[3] for frame in sent] == [[], []]
    names, records = [], {3: "a later snapshot of task 3, sent with this batch"}
    rows = []
    for frame in sent:
        names.extend(frame[4])
        for segment in frame[1]:
            rows.extend(unpack_events(segment, "new-run", names, records))
    assert rows == [
        (1, "pending", t, "new-run", 0),
        (1, "launched", t + 0.5, "new-run", 0),
        (2, "pending", t + 1, "new-run", 0),
        (3, "pending", t + 2, "new-run", 0),
    ]
    assert records == {
        1: new_snapshot("inc", t, "threads"),
        2: new_snapshot("inc", t + 1, "htex"),
        3: "a later snapshot of task 3, sent with this batch",
    }
