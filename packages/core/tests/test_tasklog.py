"""The task event log: events become parsl.log lines, whole, once each, in records of bounded size."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from parsl.dataflow import tasklog
from parsl.dataflow.tasklog import TaskEventLog


@pytest.fixture
def records():
    got: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(record)

    handler = Keep(logging.INFO)
    logger = logging.getLogger("parsl.dataflow.tasks")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield got
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _lines(records):
    return [line.strip() for r in records for line in r.getMessage().splitlines()[1:]]


def test_each_event_becomes_one_line_with_its_detail_and_try(records):
    log = TaskEventLog(period=3600)
    t = time.mktime((2026, 12, 4, 13, 5, 7, 0, 0, -1)) + 0.25
    log.record((t, 1, "launched", "noop", "htex", 0))
    log.record((t, 2, "failed, retrying", "boom", "ValueError: x", 1))
    log.record((t + 1.5, 3, "exec_done", "noop", None, 2))
    log.close()
    assert _lines(records) == [
        "13:05:07.250 task 1 launched noop on htex",
        "13:05:07.250 task 2 failed, retrying boom: ValueError: x (try 1)",
        "13:05:08.750 task 3 exec_done noop (try 2)",
    ]


def test_events_recorded_while_the_thread_flushes_arrive_whole_and_once(records):
    log = TaskEventLog(period=0.001)  # flushing all the time, against the writers
    assert log._thread is not None
    per_writer, writers = 5000, 4

    def write(w):
        for i in range(per_writer):
            log.record((time.time(), w * per_writer + i, "exec_done", f"app{w}", None, 0))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    log.close()
    ids = []
    for line in _lines(records):
        m = re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} task (\d+) exec_done app(\d)", line)
        assert m, line
        assert int(m.group(1)) // per_writer == int(m.group(2))  # id and app of the same event
        ids.append(int(m.group(1)))
    assert sorted(ids) == list(range(per_writer * writers))
    assert len(records) > 1


def test_a_large_backlog_goes_out_in_records_of_bounded_size(records, monkeypatch):
    monkeypatch.setattr(tasklog, "_LINES_PER_RECORD", 100)
    log = TaskEventLog(period=3600)
    for i in range(1050):
        log.record((time.time(), i, "launched", "noop", "threads", 0))
    log.flush()
    assert [len(r.getMessage().splitlines()) - 1 for r in records] == [100] * 10 + [50]
    log.close()
    assert len(_lines(records)) == 1050


def test_a_workflow_writes_its_task_events_to_parsl_log(tmp_path):
    import parsl
    from parsl.config import Config

    @parsl.python_app
    def noop():
        return None

    with parsl.load(Config(run_dir=str(tmp_path))) as dfk:
        assert [noop().result() for _ in range(3)] == [None] * 3
        run_dir = dfk.run_dir
    text = (tmp_path / run_dir.rsplit("/", 1)[-1] / "parsl.log").read_text()
    for tid in range(3):
        assert re.search(rf"task {tid} launched noop on threads\n", text), tid
        assert re.search(rf"task {tid} exec_done noop\n", text), tid
