"""100,000 walltime tasks under monitoring on HTEX: every process stays flat, the workflow's too.

An app called with ``walltime=`` runs a wrapper of its function; the monitoring hub wraps that
again. Were either wrapper built anew per call, HTEX would serialize a function per task and
the workflow process, the interchange, the pool and its workers would each keep one cached
copy per task until the run ends. The run below does 10,000 tasks, measures every process,
does 90,000 more and measures again; the tests check that one function was serialized for the
whole run, and that no process grew by more than a bound far below what one cached function
per task costs. The workflow process's RSS is too noisy to see a small per-task leak, so its
live Python heap blocks are counted too, and what the monitoring writer keeps (it must forget
each task once it is final) is counted directly.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from types import SimpleNamespace

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider

psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.slow

WARMUP = int(os.environ.get("PARSL_TEST_WALLTIME_WARMUP", 10_000))
TOTAL = int(os.environ.get("PARSL_TEST_WALLTIME_TASKS", 100_000))
BATCH = 5_000
#: growth allowed per HTEX process (interchange, pool, worker) between the two measurements.
#: One cached function per task cost each of them about 3 MiB per 1,000 tasks before the fix
#: (some 270 MiB over these 90,000 tasks); allocator noise stays well under this.
MAX_GROWTH_MB = 12
#: RSS growth allowed for the workflow process, a bound for gross leaks only: it leaked about
#: 5 MiB per 1,000 tasks with a wrapper per call (some 450 MiB here), but its RSS moves with the
#: allocator's high-water mark (the writer's batches grow when the machine is busy): with nothing
#: leaking it grew by 7.1, 9.3, 13.7 and 18.6 MiB in four runs, so 100 bytes a task (9 MiB)
#: cannot be told from noise this way.
MAX_WORKFLOW_GROWTH_MB = 40
#: growth allowed in the workflow's count of live Python heap blocks (``sys.getallocatedblocks``,
#: objects up to 512 bytes), the precise measure: with nothing leaking it moved by +150 and +274
#: over the 90,000 tasks; one object kept per task adds 90,000 (the writer's old id sets, two
#: per task, about 180,000). The bound is exceeded by one object kept per 18 tasks.
MAX_WORKFLOW_BLOCK_GROWTH = 5_000


@python_app
def inc(x):
    return x + 1


def _role(proc) -> str | None:
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return None
    if "parsl_executor_htex.worker" in cmd:
        return f"worker {proc.pid}"
    if "process_worker_pool" in cmd:
        return f"pool {proc.pid}"
    if "interchange" in cmd:
        return "interchange"
    return None


def _rss_mb() -> dict[str, float]:
    """RSS of the workflow process and of each HTEX process below it, in MiB."""
    gc.collect()
    me = psutil.Process()
    out = {"workflow": me.memory_info().rss / 2**20}
    for child in me.children(recursive=True):
        role = _role(child)
        if role is not None:
            try:
                out[role] = child.memory_info().rss / 2**20
            except psutil.Error:
                pass
    return out


def _settle(writer) -> None:
    """Wait until the monitoring writer has written every queued event (a minute at most)."""
    for _ in range(60):
        written = writer.rows_written
        time.sleep(1)
        if not writer.events and not writer.stats.get("queued") and writer.rows_written == written:
            return


def _run(n: int, start: int) -> None:
    for lo in range(start, start + n, BATCH):
        futs = [inc(i, walltime=60) for i in range(lo, min(lo + BATCH, start + n))]
        for i, f in enumerate(futs, lo):
            assert f.result(timeout=120) == i + 1


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Run the tasks once for the module; what was measured before and after the 90,000."""
    tmp_path = tmp_path_factory.mktemp("walltime_memory")
    # pytest keeps every log record it captures (parsl.log's task lines at INFO, one per task):
    # that would be the test harness growing, not Parsl. parsl.log itself is still written.
    parsl_logger = logging.getLogger("parsl")
    propagate, parsl_logger.propagate = parsl_logger.propagate, False
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1)
            )
        ],
        monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db"),
        run_dir=str(tmp_path / "runinfo"),
    )
    try:
        with parsl.load(config) as dfk:
            ex = dfk.executors["htex"]
            writer = dfk.monitoring._writer
            _run(WARMUP, 0)
            _settle(writer)
            before = _rss_mb()
            blocks_before = sys.getallocatedblocks()
            serialized_before = ex._fcache.serialized
            _run(TOTAL - WARMUP, WARMUP)
            _settle(writer)
            after = _rss_mb()
            blocks_after = sys.getallocatedblocks()
            # what the writer remembers between batches: unfinished tasks only, none by now
            # (figures the writer process reports), and the records the workflow process holds for it
            writer_kept = writer.stats["live"] + writer.stats["try_rows"] + len(writer._records)
            m = SimpleNamespace(
                before=before,
                after=after,
                serialized=(serialized_before, ex._fcache.serialized),
                cached=len(ex._fcache),
                hub_wrappers=len(dfk.monitoring._wrappers),
                app_wrappers=len(inc._variants),
                writer_kept=writer_kept,
                blocks=(blocks_before, blocks_after),
            )
    finally:
        parsl_logger.propagate = propagate
    m.report = "\n".join(
        f"  {role:>14}: {before[role]:7.1f} MiB at {WARMUP:,} tasks, "
        f"{after.get(role, float('nan')):7.1f} MiB at {TOTAL:,}"
        for role in sorted(before)
    )
    print(
        f"\nRSS per process:\n{m.report}\n  monitoring writer keeps {m.writer_kept} entries"
        f"\n  workflow heap blocks: {m.blocks[0]:,} at {WARMUP:,} tasks, {m.blocks[1]:,} at {TOTAL:,}"
    )
    return m


def test_one_function_serialized_and_wrapped_for_the_whole_run(measured):
    assert measured.serialized == (1, 1)
    assert measured.cached <= 1
    assert measured.hub_wrappers == 1
    assert measured.app_wrappers == 1


def test_htex_processes_stay_flat(measured):
    before, after = measured.before, measured.after
    assert "interchange" in before
    assert any(r.startswith("pool") for r in before) and any(r.startswith("worker") for r in before)
    grown = {role: round(after[role] - before[role], 1) for role in before if role != "workflow"}
    assert all(role in after for role in before), f"a process went away:\n{measured.report}"
    assert max(grown.values()) <= MAX_GROWTH_MB, f"{grown} MiB:\n{measured.report}"


def test_monitoring_writer_forgets_finished_tasks(measured):
    # all 100,000 tasks are done; only those of batches not yet written may still be known
    assert measured.writer_kept <= BATCH


def test_workflow_process_stays_flat(measured):
    grown = measured.blocks[1] - measured.blocks[0]
    assert grown <= MAX_WORKFLOW_BLOCK_GROWTH, f"{grown:,} more heap blocks:\n{measured.report}"


def test_workflow_rss_stays_bounded(measured):
    grown = measured.after["workflow"] - measured.before["workflow"]
    assert grown <= MAX_WORKFLOW_GROWTH_MB, f"{grown:.1f} MiB:\n{measured.report}"
