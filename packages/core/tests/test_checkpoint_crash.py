"""Crash safety of checkpoints: a result returned to the script is never computed again.

The workflow script (scripts/cached_workflow.py) is killed with SIGKILL at random moments
and resumed from its checkpoints; every mode and both Config styles are exercised.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from parsl.dataflow.memoization import BasicMemoizer
from parsl.utils import get_all_checkpoints, get_last_checkpoint

SCRIPT = Path(__file__).parent / "scripts" / "cached_workflow.py"
N = 40


def _expected(i: int) -> int:
    return i * i


class Run:
    """One execution of the workflow script: what it printed and whether it finished."""

    def __init__(self, label: str, stdout: str) -> None:
        self.label = label
        lines = stdout.split("\n")[:-1]  # the last piece has no newline: possibly torn
        self.printed: dict[int, int] = {}
        self.wrong: list[str] = []
        self.done = "DONE" in lines
        for line in lines:
            parts = line.split()
            if len(parts) == 3:
                i, v, ok = int(parts[0]), int(parts[1]), parts[2]
                self.printed[i] = v
                if ok != "ok" or v != _expected(i):
                    self.wrong.append(line)


def _run(run_dir: Path, style: str, mode: str, label: str, kill_after: float | None) -> Run:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(run_dir), str(N), style, mode, label],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = ""
    if kill_after is not None:
        assert proc.stdout is not None
        out = proc.stdout.readline()  # "START": the kernel is loaded and tasks are about to go
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    rest, err = proc.communicate(timeout=60)
    out += rest
    if kill_after is None:
        assert proc.returncode == 0, err
    return Run(label, out)


def _computed(run_dir: Path) -> dict[str, list[int]]:
    by_run: dict[str, list[int]] = {}
    log = run_dir / "computed.log"
    if log.exists():
        for line in log.read_text().splitlines():
            label, i = line.split()
            by_run.setdefault(label, []).append(int(i))
    return by_run


def _kill_and_resume(run_dir: Path, style: str, mode: str, seed: int, kills: int) -> list[Run]:
    rng = random.Random(seed)
    runs = [_run(run_dir, style, mode, f"run{k}", rng.uniform(0.0, 0.25)) for k in range(kills)]
    runs.append(_run(run_dir, style, mode, "final", None))
    return runs


def _check_never_recomputed(run_dir: Path, runs: list[Run]) -> None:
    computed = _computed(run_dir)
    returned: set[int] = set()
    for run in runs:
        assert not run.wrong, f"{run.label} returned wrong values: {run.wrong}"
        again = returned.intersection(computed.get(run.label, []))
        assert not again, (
            f"{run.label} recomputed tasks {sorted(again)} whose results an earlier run had already returned"
        )
        returned.update(run.printed)
    assert runs[-1].done and set(runs[-1].printed) == set(range(N))


@pytest.mark.slow
def test_sigkill_at_random_moments_never_recomputes_a_returned_result(tmp_path):
    """24 workflows, each killed twice at random moments and then resumed (task_exit mode)."""
    cases = [(tmp_path / f"w{k}", "config" if k % 2 else "memoizer", k) for k in range(24)]

    def one(case):
        run_dir, style, seed = case
        run_dir.mkdir()
        runs = _kill_and_resume(run_dir, style, "task_exit", seed, kills=2)
        _check_never_recomputed(run_dir, runs)
        return sum(len(r.printed) for r in runs[:-1])

    with ThreadPoolExecutor(4) as pool:
        returned_before_kill = list(pool.map(one, cases))
    # the kills did land mid-workflow in most iterations (otherwise the test proves little)
    assert sum(1 for n in returned_before_kill if n > 0) >= 6, returned_before_kill


@pytest.mark.parametrize("style", ["config", "memoizer"])
@pytest.mark.parametrize("mode", ["task_exit", "periodic", "dfk_exit", "manual"])
def test_every_mode_and_config_style_resumes_without_recomputing(tmp_path, style, mode):
    first = _run(tmp_path, style, mode, "first", None)
    assert first.done and set(first.printed) == set(range(N))
    assert len(get_all_checkpoints(str(tmp_path))) == 1
    assert get_last_checkpoint(str(tmp_path)) == get_all_checkpoints(str(tmp_path))
    second = _run(tmp_path, style, mode, "second", None)
    assert second.done and not second.wrong and set(second.printed) == set(range(N))
    assert "second" not in _computed(tmp_path), "a result restored from the checkpoint was recomputed"
    dirs = get_all_checkpoints(str(tmp_path))
    assert len(dirs) == 2 and get_last_checkpoint(str(tmp_path)) == dirs[-1:]
    # restored results are carried into the new run's checkpoint: the last one alone suffices
    assert len(BasicMemoizer.load_checkpoints(dirs[-1:])) == N


def test_sigkill_after_results_in_dfk_exit_mode_loses_them_but_never_lies(tmp_path):
    """dfk_exit checkpoints at cleanup only: a killed run leaves nothing, never anything wrong."""
    runs = _kill_and_resume(tmp_path, "config", "dfk_exit", seed=1, kills=1)
    for run in runs:
        assert not run.wrong
    assert runs[-1].done


def _records(n: int) -> bytes:
    return b"".join(
        pickle.dumps({"hash": f"h{i}", "exception": None, "result": ("r", i, "p" * 50)}) for i in range(n)
    )


def test_a_torn_last_record_is_ignored_at_every_cut(tmp_path):
    whole = _records(3)
    last_start = len(_records(2))
    ck = tmp_path / "checkpoint"
    ck.mkdir()
    for cut in range(last_start, len(whole) + 1):
        (ck / "tasks.pkl").write_bytes(whole[:cut])
        table = BasicMemoizer.load_checkpoints([str(ck)])
        expect = 3 if cut == len(whole) else 2
        assert sorted(table) == [f"h{i}" for i in range(expect)], cut
        assert table["h1"].result() == ("r", 1, "p" * 50)


def test_corruption_before_the_end_is_reported(tmp_path):
    from parsl.dataflow.errors import BadCheckpoint

    whole = bytearray(_records(3))
    whole[5:15] = b"\xff" * 10
    ck = tmp_path / "checkpoint"
    ck.mkdir()
    (ck / "tasks.pkl").write_bytes(bytes(whole))
    with pytest.raises(BadCheckpoint, match="corrupt"):
        BasicMemoizer.load_checkpoints([str(ck)])


def test_task_exit_record_is_on_disk_before_the_future_completes(load, run_dir):
    import parsl

    seen = []

    @parsl.python_app(cache=True)
    def sq(x):
        return x * x

    dfk = load(checkpoint_mode="task_exit")
    path = os.path.join(dfk.run_dir, "checkpoint", "tasks.pkl")

    def on_done(f):
        table = BasicMemoizer.load_checkpoints([os.path.dirname(path)])
        seen.append(f.task_record.hashsum in table)

    futs = []
    for i in range(5):
        f = sq(i)
        f.add_done_callback(on_done)
        futs.append(f)
    assert [f.result() for f in futs] == [0, 1, 4, 9, 16]
    # result() returns before the future's callbacks have all run: wait for them
    from parsl.utils import wait_for

    assert wait_for(lambda: len(seen) == 5, timeout=10)
    assert all(seen)  # each future completed only once its own record was on disk
    assert len(BasicMemoizer.load_checkpoints([os.path.dirname(path)])) == 5


def test_exceptions_are_memoized_in_process_but_never_checkpointed(load, run_dir):
    import parsl

    calls = []

    @parsl.python_app(cache=True)
    def boom(x):
        calls.append(x)
        raise ValueError(f"boom {x}")

    dfk = load(checkpoint_mode="task_exit")
    with pytest.raises(ValueError):
        boom(1).result()
    with pytest.raises(ValueError):
        boom(1).result()
    assert calls == [1]  # the second call was served from the in-process memo table
    dfk.checkpoint()
    table = BasicMemoizer.load_checkpoints(get_all_checkpoints(run_dir))
    assert table == {}
