"""Ctrl-C and SIGTERM during a workflow: prompt exit, nothing left running, checkpoints intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parsl.dataflow.memoization import BasicMemoizer
from parsl.utils import get_all_checkpoints

SCRIPT = Path(__file__).parent / "scripts" / "interrupted_workflow.py"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("mode", ["task_exit", "dfk_exit"])
@pytest.mark.parametrize("style", ["with", "atexit"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_workflow_exits_promptly_and_cleanly(tmp_path, signum, style, mode):
    if mode == "dfk_exit" and style == "with" and signum == signal.SIGINT:
        pytest.skip("covered by the other combinations")
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(tmp_path), mode, style],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "RUNNING\n", proc.stderr.read() if proc.stderr else ""
        bash_pid, sleep_pid = (int(p) for p in (tmp_path / "pids").read_text().split())
        assert _alive(bash_pid) and _alive(sleep_pid)
        started = time.monotonic()
        proc.send_signal(signum)
        proc.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert took < 5, f"took {took:.1f}s to exit"
    if signum == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, stderr
    else:
        assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 3
    while (_alive(bash_pid) or _alive(sleep_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(sleep_pid), "the bash app's child process was orphaned"
    assert not _alive(bash_pid), "the bash runner was orphaned"
    # results finished before the signal are in the checkpoint, and it loads cleanly
    table = BasicMemoizer.load_checkpoints(get_all_checkpoints(str(tmp_path)))
    assert sorted(f.result() for f in table.values()) == [0, 1, 4, 9, 16]
    assert stderr.count("Traceback") <= 1, stderr  # at most the KeyboardInterrupt's own


def test_handlers_are_restored_after_cleanup(load):
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    dfk = load()
    during = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    assert during != before
    dfk.cleanup()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_script_handler_is_left_alone(load):
    def mine(signum, frame):
        pass

    old = signal.signal(signal.SIGTERM, mine)
    try:
        dfk = load()
        assert signal.getsignal(signal.SIGTERM) is mine
        dfk.cleanup()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)


def test_no_handlers_from_another_thread(tmp_path):
    import threading

    import parsl
    from parsl.config import Config

    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def run():
        with parsl.load(Config(run_dir=str(tmp_path / "runinfo"), strategy="none")):
            seen.append(signal.getsignal(signal.SIGTERM))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == [before]
    assert os.getpid()
