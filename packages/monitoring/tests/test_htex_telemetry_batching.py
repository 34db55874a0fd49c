"""Monitoring messages ride with results: a real worker process sends a monitored task's last
messages inside its result's message, a long task's samples on their own while it runs, and the
RESULTS framing carries a pool's telemetry section to the executor untouched."""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import time

import pytest

from parsl.monitoring.packed import expand, is_packed, unpack_task_run
from parsl_executor_htex import messages as m
from parsl_executor_htex.serialize import dumps, dumps_args, unpack_result
from parsl_monitoring.remote import TASK_KEY, TRY_KEY, MonitoredFunction


@pytest.fixture
def worker():
    """A worker process on two pipes, as the pool starts it: (task fd, result fd)."""
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "parsl_executor_htex.worker", str(task_r), str(result_w), "0"],
        pass_fds=(task_r, result_w),
        stdin=subprocess.DEVNULL,
    )
    os.close(task_r)
    os.close(result_w)
    try:
        msg, _ = read(result_r)
        assert msg[:1] == m.READY
        yield task_w, result_r
    finally:
        m.write_frames(task_w, [m.STOP])
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(task_w)
        os.close(result_r)


def read(fd, timeout=60):
    """The next message from the worker (a deadline only so that a broken worker cannot hang the test)."""
    ready, _, _ = select.select([fd], [], [], timeout)
    assert ready, "no message from the worker"
    return m.read_frames(fd)


def split(msg):
    """(tag, task id, telemetry messages, rest) of a worker -> manager message."""
    size = 1 + m.WORKER_RESULT.size
    _, tid, n = m.WORKER_RESULT.unpack_from(msg, 1)
    telemetry = pickle.loads(msg[size : size + n]) if n else []
    return msg[:1], tid, telemetry, msg[size + n :]


def submit(task_fd, tid, func, args, task_id):
    payload = dumps_args(args, {TASK_KEY: task_id, TRY_KEY: 0})
    m.write_frames(task_fd, m.encode(m.TASKS, (tid, 1, dumps(func) if tid == 1 else None, payload)))


def test_a_short_task_sends_one_message_with_its_result_and_telemetry(worker):
    task_fd, result_fd = worker
    func = MonitoredFunction(max, "run", None)
    for tid in (1, 2, 3):
        submit(task_fd, tid, func, (tid, 10 * tid), task_id=100 + tid)
        early = []  # "running" goes alone only if the task was (descheduled) 0.2 s long
        while True:
            tag, got, telemetry, rest = split(read(result_fd)[0])
            if tag != m.MONITOR:
                break
            early += pickle.loads(rest)
        assert (tag, got) == (m.RESULTS, tid)
        assert unpack_result(rest) == (True, 10 * tid)
        got_messages = expand(early + telemetry, "run")
        assert [t["type"] for t in got_messages] == ["task_running", "task_running_ended"]
        assert {t["task_id"] for t in got_messages} == {100 + tid}
        assert telemetry, "the task's end must come with its result"
        if not early:  # a short task: its start and end as one packed record
            assert len(telemetry) == 1 and is_packed(telemetry[0])
            run = unpack_task_run(telemetry[0])
            assert run[:2] == (100 + tid, 0) and run[2] <= run[3]
        else:
            assert telemetry[-1]["type"] == "task_running_ended"


def test_a_long_task_reports_while_it_runs_before_its_result(worker, tmp_path):
    task_fd, result_fd = worker
    release = tmp_path / "release"
    # waits until the test releases it, which the test does only once it has the task's
    # monitoring messages: had they waited for the result, this would never get them
    func = MonitoredFunction(subprocess.call, "run", 0.1)
    script = f"while [ ! -e {release} ]; do sleep 0.05; done"
    submit(task_fd, 1, func, (["sh", "-c", script],), task_id=7)
    seen = []
    while not {"task_running", "resource"} <= {t["type"] for t in seen}:
        tag, tid, _, rest = split(read(result_fd)[0])
        assert tag == m.MONITOR, "the task ended before the test released it"
        seen += pickle.loads(rest)
    assert {t["task_id"] for t in seen} == {7}
    release.touch()
    deadline = time.monotonic() + 60
    while True:
        tag, tid, telemetry, rest = split(read(result_fd, max(0.0, deadline - time.monotonic()))[0])
        if tag == m.RESULTS:
            break
        seen += pickle.loads(rest)  # more samples taken before it saw the file
    assert tid == 1 and unpack_result(rest) == (True, 0)
    assert telemetry[-1]["type"] == "task_running_ended" and telemetry[-1]["task_id"] == 7
    assert "task_running" not in {t["type"] for t in telemetry}  # sent once, while it ran


def test_results_carry_a_telemetry_section_the_interchange_does_not_read():
    first = pickle.dumps([{"type": "task_running_ended", "task_id": 1}], protocol=5)
    second = pickle.dumps([{"type": "resource", "task_id": 2}, {"type": "x", "task_id": 2}], protocol=5)
    frames = m.encode_results([1, 2], [b"one", m.Blob(b"b" * 100_000)], 0.25, first + second)
    assert m.result_ids(frames[0]) == ([1, 2], 0.25)
    tids, payloads = m.decode_results(frames[0], frames[1:])
    assert tids == [1, 2] and payloads[0] == b"one" and bytes(payloads[1].buf) == b"b" * 100_000
    assert [(t["type"], t["task_id"]) for t in m.decode_telemetry(frames[0])] == [
        ("task_running_ended", 1),
        ("resource", 2),
        ("x", 2),
    ]
    assert m.decode_telemetry(m.encode_results([3], [b"r"])[0]) == []
    # the receiver's batch: every result message's section, in order, in one list
    third = pickle.dumps([{"type": "task_running_ended", "task_id": 4}], protocol=5)
    later = m.encode_results([4], [b"four"], 0.1, third)[0]
    no_telemetry = m.encode_results([5], [b"five"])[0]
    items = m.decode_all_telemetry([frames[0], no_telemetry, m.DISPATCHED + b"\0" * 8, later])
    assert [(t["type"], t["task_id"]) for t in items] == [
        ("task_running_ended", 1),
        ("resource", 2),
        ("x", 2),
        ("task_running_ended", 4),
    ]
    assert m.decode_all_telemetry([no_telemetry]) == []


@pytest.mark.slow
def test_every_tasks_rows_arrive_with_their_results(tmp_path, monkeypatch):
    import sqlite3
    import threading

    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.monitoring import MonitoringHub
    from parsl.providers import LocalProvider
    from parsl_executor_htex import HighThroughputExecutor

    # count, as the executor receives them, the tasks' "running ended" messages that come
    # with results and those that come alone (the real receiver still handles each message)
    ended = {"with results": 0, "alone": 0}
    lock = threading.Lock()
    receive = HighThroughputExecutor._on_message

    def counting(self, msg, extra, telemetry_sent=False):
        tag = msg[:1]
        if tag == m.RESULTS:
            where, items = "with results", m.decode_telemetry(msg)
        elif tag == m.MONITOR:
            where, items = "alone", [t for body in m.decode(msg, extra) for t in pickle.loads(body)]
        else:
            where, items = None, []
        with lock:
            if where is not None:
                ended[where] += sum(1 for t in expand(items) if t.get("type") == "task_running_ended")
        receive(self, msg, extra, telemetry_sent)

    monkeypatch.setattr(HighThroughputExecutor, "_on_message", counting)

    @python_app
    def inc(x):
        return x + 1

    run_dir = tmp_path / "runinfo"
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
            )
        ],
        monitoring=MonitoringHub(resource_monitoring_interval=60),
        run_dir=str(run_dir),
    )
    n = 500
    with parsl.load(config):
        futures = [inc(i) for i in range(n)]
        # the workflow ends as soon as the last result is in: its rows must not be left behind
        assert [f.result(timeout=120) for f in futures] == list(range(1, n + 1))
    assert ended == {"with results": n, "alone": 0}
    with sqlite3.connect(str(run_dir / "monitoring.db")) as c:
        rows = c.execute(
            "select task_status_name, count(distinct task_id) from status "
            "where task_status_name in ('running', 'running_ended') group by task_status_name"
        ).fetchall()
        tries = c.execute("select count(*) from try where task_try_time_running is not null").fetchone()[0]
    assert dict(rows) == {"running": n, "running_ended": n}
    assert tries == n
