"""How many short tasks the interchange queues ahead at a pool (``short_task_extra``)."""

from __future__ import annotations

from parsl_executor_htex.interchange import MAX_EXTRA_PER_WORKER, MIN_TASK, SLOW_LINK, short_task_extra


def test_a_pool_on_a_fast_link_gets_one_extra_task_per_worker():
    assert short_task_extra(2, 0.00005, -1.0) == 2  # round trip not timed yet
    assert short_task_extra(2, 0.00005, 0.0003) == 2  # a local pool: 0.3 ms
    assert short_task_extra(8, 0.002, SLOW_LINK) == 8  # at the threshold: still fast


def test_a_pool_on_a_slow_link_gets_enough_to_last_the_round_trip():
    # 6 ms round trip, 2 ms tasks: three per worker in flight beyond the one running
    assert short_task_extra(2, 0.002, 0.006) == 6
    # tasks shorter than MIN_TASK count as MIN_TASK
    assert short_task_extra(2, 0.00001, 4 * MIN_TASK) == 8
    # a very slow link is capped
    assert short_task_extra(3, 0.0001, 10.0) == 3 * MAX_EXTRA_PER_WORKER
    # tasks as long as the round trip need no more than one extra each
    assert short_task_extra(4, 0.009, 0.005) == 4
