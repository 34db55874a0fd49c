"""Where and in which order tasks run: cpu_affinity, available_accelerators, task priority."""

from __future__ import annotations

import itertools
import os
import time

import pytest

import parsl
from parsl import python_app

ACCELERATORS = ["7", "9"]


@python_app
def placement(meeting):
    """Report where this task runs, once both workers hold one (each waits for the other)."""
    import os
    import time

    open(os.path.join(meeting, os.environ["PARSL_WORKER_RANK"]), "w").close()
    deadline = time.monotonic() + 30
    while len(os.listdir(meeting)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    return (
        os.environ["PARSL_WORKER_RANK"],
        sorted(os.sched_getaffinity(0)),
        os.environ.get("CUDA_VISIBLE_DEVICES"),
        os.environ.get("ROCR_VISIBLE_DEVICES"),
        os.environ.get("OMP_NUM_THREADS"),
    )


@python_app
def hold(marker, t):
    import time

    open(marker, "w").close()
    time.sleep(t)


@python_app
def started_at(label):
    import time

    start = time.time()
    time.sleep(0.3)
    return label, start


@pytest.fixture(scope="module")
def two_gpu_dfk(tmp_path_factory, htex_tools):
    before = htex_tools.processes()
    # no max_workers_per_node: the accelerator count sets the number of workers
    config = htex_tools.make_config(
        str(tmp_path_factory.mktemp("placement") / "runinfo"),
        encrypted=False,
        max_workers_per_node=None,
        available_accelerators=ACCELERATORS,
        cpu_affinity="block",
    )
    dfk = parsl.load(config)
    yield dfk
    dfk.cleanup()
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before)


def test_workers_per_node_follows_the_accelerators(two_gpu_dfk, tmp_path):
    ex = two_gpu_dfk.executors["htex"]
    assert ex.workers_per_node == 2
    seen = {}
    for rank, _cpus, cuda, rocr, _omp in [
        f.result(timeout=30) for f in [placement(str(tmp_path)) for _ in range(2)]
    ]:
        assert cuda == rocr
        seen[rank] = cuda
    assert seen == {"0": "7", "1": "9"}
    assert ex.connected_workers == 2


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_block_affinity_gives_each_worker_its_own_cpus(two_gpu_dfk, tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    per = len(cpus) // 2
    got = {}
    for rank, mine, _cuda, _rocr, omp in [
        f.result(timeout=30) for f in [placement(str(tmp_path)) for _ in range(2)]
    ]:
        got[rank] = mine
        assert omp == str(per)
    assert got == {"0": cpus[:per], "1": cpus[per : 2 * per]}


def test_lower_priority_value_runs_first(two_gpu_dfk, tmp_path):
    # occupy both workers so the prioritised tasks queue up in the interchange
    markers = [str(tmp_path / f"busy{i}") for i in range(2)]
    blockers = [hold(m, 1.0) for m in markers]
    deadline = time.monotonic() + 30
    while not all(os.path.exists(m) for m in markers) and time.monotonic() < deadline:
        time.sleep(0.02)
    priorities = [5, 1, None, 4, 2, 3]
    futures = [
        started_at(p, parsl_resource_specification={} if p is None else {"priority": p}) for p in priorities
    ]
    [b.result(timeout=30) for b in blockers]
    starts = dict(f.result(timeout=30) for f in futures)
    order = [1, 2, 3, 4, 5, None]  # no priority runs last
    # two workers start tasks in pairs 0.3 s apart: a later task never starts a pair earlier
    for a, b in itertools.pairwise(order):
        assert starts[b] >= starts[a] - 0.15, (a, b, starts)
    assert starts[order[-1]] - starts[order[0]] > 0.45
