"""Where and in which order tasks run: cpu_affinity, available_accelerators, task priority."""

from __future__ import annotations

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
def hold(marker, release):
    """Say this worker is busy, then keep it busy until the test creates ``release``."""
    import os
    import time

    open(marker, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)


@python_app
def log_start(log, label):
    """Append ``label`` to ``log`` as this task starts (O_APPEND: one whole line per writer)."""
    import os
    import time

    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{label}\n".encode())
    finally:
        os.close(fd)
    time.sleep(0.2)  # hold the worker, so the next task waits for a free one


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
    ex = two_gpu_dfk.executors["htex"]
    # occupy both workers until every prioritised task has reached the interchange's queue
    markers = [str(tmp_path / f"busy{i}") for i in range(2)]
    release = str(tmp_path / "release")
    blockers = [hold(m, release) for m in markers]
    deadline = time.monotonic() + 30
    while not all(os.path.exists(m) for m in markers) and time.monotonic() < deadline:
        time.sleep(0.02)
    priorities = [5, 1, None, 4, 2, 3]
    log = str(tmp_path / "starts")
    futures = [
        log_start(log, p, parsl_resource_specification={} if p is None else {"priority": p})
        for p in priorities
    ]
    while ex._command_call("outstanding") < len(blockers) + len(priorities) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ex._command_call("outstanding") == len(blockers) + len(priorities)
    open(release, "w").close()
    [f.result(timeout=30) for f in blockers + futures]
    with open(log) as f:
        position = {None if line == "None" else int(line): i for i, line in enumerate(f.read().split())}
    order = [1, 2, 3, 4, 5, None]  # no priority runs last
    # the interchange hands tasks out in this order; two workers may start two tasks handed
    # out together in either order, never one handed out two places later first
    for i, earlier in enumerate(order):
        for later in order[i + 2 :]:
            assert position[earlier] < position[later], (earlier, later, position)
