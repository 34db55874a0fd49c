"""The executor lifecycle suite: the calls a DataFlowKernel makes on an executor, in its order.

Software built on Parsl (not only scripts) drives executors itself, with no DataFlowKernel,
making the same calls in the same order. :func:`start_like_a_dfk` is that order; the suite
checks an executor both when it is driven that way and when a DataFlowKernel drives it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.base import ParslExecutor
from parsl.jobs.states import JobStatus
from parsl.utils import wait_for

__all__ = ["ExecutorLifecycleSuite", "is_block_executor", "start_like_a_dfk"]


def _square(x: int) -> int:
    return x * x


@python_app
def _square_app(x: int) -> int:
    return x * x


def is_block_executor(executor: ParslExecutor) -> bool:
    """Whether ``executor`` gets its workers in blocks from a provider."""
    return getattr(executor, "provider", None) is not None and hasattr(executor, "scale_out_facade")


def start_like_a_dfk(executor: ParslExecutor, run_dir: str, run_id: str | None = None) -> list[str]:
    """Start ``executor`` as a DataFlowKernel does; return the ids of the blocks launched.

    Sets ``run_dir`` and ``run_id`` (and the provider's ``script_dir``), calls ``start()``,
    then, for a block executor, ``scale_out_facade(provider.init_blocks)``.
    """
    os.makedirs(run_dir, exist_ok=True)
    executor.run_dir = run_dir
    executor.run_id = run_id or str(uuid.uuid4())
    provider = getattr(executor, "provider", None)
    if provider is not None and hasattr(provider, "script_dir"):
        provider.script_dir = os.path.join(run_dir, "submit_scripts")
        os.makedirs(provider.script_dir, exist_ok=True)
    executor.start()
    if is_block_executor(executor) and _init_blocks(executor) > 0:
        return list(executor.scale_out_facade(_init_blocks(executor)))  # type: ignore[attr-defined]
    return []


def _init_blocks(executor: ParslExecutor) -> int:
    return int(getattr(executor.provider, "init_blocks", 0) or 0)  # type: ignore[attr-defined]


def _outstanding(executor: ParslExecutor) -> int:
    """``outstanding`` read whether the executor has it as a property or as a method."""
    value = executor.outstanding  # type: ignore[attr-defined]
    return int(value() if callable(value) else value)


# ------------------------------------------------------------ process accounting
def _descendants() -> dict[int, Any] | None:
    """pid -> start time of every process below this one, or None if this system cannot tell."""
    try:
        import psutil
    except ImportError:
        return _descendants_from_proc()
    found: dict[int, Any] = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            found[proc.pid] = proc.create_time()
        except psutil.Error:
            pass
    return found


def _proc_stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of ``pid`` from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[1]), fields[0], fields[19]


def _descendants_from_proc() -> dict[int, Any] | None:
    if not os.path.isdir("/proc/self"):
        return None
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
                started[int(entry)] = stat[2]
    found: dict[int, Any] = {}
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = started[child]
                todo.append(child)
    return found


def _alive(pid: int, started: Any) -> bool:
    """Whether the process recorded as (pid, start time) still runs (a zombie does not)."""
    try:
        import psutil
    except ImportError:
        stat = _proc_stat(pid)
        return stat is not None and stat[2] == started and stat[1] not in ("Z", "X")
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().split(b"\0")
    except OSError:
        return str(pid)
    return f"{pid}: " + " ".join(w.decode(errors="replace") for w in words if w)


class ExecutorLifecycleSuite:
    """Lifecycle tests; subclasses implement :meth:`make_executor`.

    ``make_executor()`` must return a fresh, unstarted executor. A block executor (one with a
    ``provider``) should have ``init_blocks >= 1``: with no DataFlowKernel there is no
    scaling strategy to launch blocks later.
    """

    #: seconds any single result, or any block's workers, may take
    timeout: float = 60

    def make_executor(self) -> ParslExecutor:
        raise NotImplementedError("implement make_executor() to return a fresh executor instance")

    # ------------------------------------------------------------- fixtures
    @pytest.fixture
    def driven_executor(self, tmp_path: Any) -> Iterator[ParslExecutor]:
        """The executor under test, started as a DataFlowKernel would start it, with no kernel."""
        executor = self.make_executor()
        assert isinstance(executor, ParslExecutor), "make_executor() must return a ParslExecutor"
        try:
            start_like_a_dfk(executor, str(tmp_path / "runinfo"))
            yield executor
        finally:
            executor.shutdown()

    def _needs_workers(self, executor: ParslExecutor) -> None:
        if is_block_executor(executor) and _init_blocks(executor) < 1:
            pytest.skip(
                "provider.init_blocks is 0: without a DataFlowKernel's scaling strategy "
                "no block would ever run a task; give make_executor() init_blocks=1"
            )

    def wait_for_blocks_to_connect(self, executor: ParslExecutor) -> list[dict[str, Any]]:
        """Wait until every launched block has a manager connected; return connected_managers()."""
        launched = set(executor.status())  # type: ignore[attr-defined]
        managers: list[dict[str, Any]] = []

        def all_connected() -> bool:
            managers[:] = executor.connected_managers()  # type: ignore[attr-defined]
            return launched <= {str(m["block_id"]) for m in managers}

        assert wait_for(all_connected, self.timeout, period=0.1), (
            f"blocks {sorted(launched)} launched but only {managers} connected"
        )
        return managers

    def assert_leaves_no_processes(self, before: dict[int, Any], during: dict[int, Any]) -> None:
        """Every process started since ``before`` (seen ``during`` the run) must now be gone."""
        started = {pid: t for pid, t in during.items() if before.get(pid) != t}
        left: list[int] = []

        def all_gone() -> bool:
            left[:] = [pid for pid, t in started.items() if _alive(pid, t)]
            return not left

        # shutdown() may return while a killed process is still being torn down by the OS
        assert wait_for(all_gone, 30, period=0.1), (
            "processes the executor started outlived shutdown(): " + "; ".join(_describe(pid) for pid in left)
        )

    # ------------------------------------------------------- without a DFK
    def test_lifecycle_submit_without_dfk(self, driven_executor: ParslExecutor) -> None:
        self._needs_workers(driven_executor)
        fut = driven_executor.submit(_square, {}, 7)
        assert fut.result(timeout=self.timeout) == 49
        fut = driven_executor.submit(_square, {}, x=9)
        assert fut.result(timeout=self.timeout) == 81
        if hasattr(driven_executor, "outstanding"):
            assert wait_for(lambda: _outstanding(driven_executor) == 0, self.timeout), (
                f"outstanding is still {_outstanding(driven_executor)} after every result came back"
            )

    def test_lifecycle_launches_exactly_init_blocks_without_dfk(self, driven_executor: ParslExecutor) -> None:
        if not is_block_executor(driven_executor):
            pytest.skip(f"{type(driven_executor).__name__} has no provider: no blocks to count")
        self._check_blocks(driven_executor)

    def test_lifecycle_managers_connect_once_per_block_without_dfk(
        self, driven_executor: ParslExecutor
    ) -> None:
        if not (is_block_executor(driven_executor) and hasattr(driven_executor, "connected_managers")):
            pytest.skip(f"{type(driven_executor).__name__} reports no connected_managers()")
        self._needs_workers(driven_executor)
        self._check_managers(driven_executor)

    def test_lifecycle_shutdown_leaves_no_processes_without_dfk(self, tmp_path: Any) -> None:
        before = _descendants()
        if before is None:
            pytest.skip("cannot list child processes here: install psutil")
        executor = self.make_executor()
        self._needs_workers(executor)
        try:
            start_like_a_dfk(executor, str(tmp_path / "runinfo"))
            assert executor.submit(_square, {}, 3).result(timeout=self.timeout) == 9
            if hasattr(executor, "connected_managers") and is_block_executor(executor):
                self.wait_for_blocks_to_connect(executor)
            during = _descendants() or {}
        finally:
            executor.shutdown()
        self.assert_leaves_no_processes(before, during)

    # ---------------------------------------------------------- with a DFK
    def test_lifecycle_with_dfk(self, tmp_path: Any) -> None:
        before = _descendants()
        executor = self.make_executor()
        self._needs_workers(executor)
        run_dir = str(tmp_path / "runinfo")
        dfk = parsl.load(Config(executors=[executor], run_dir=run_dir, strategy="none"))
        try:
            assert executor.run_dir == dfk.run_dir and executor.run_id == dfk.run_id
            if getattr(executor, "provider", None) is not None and hasattr(executor.provider, "script_dir"):
                assert executor.provider.script_dir, "the DataFlowKernel sets the provider's script_dir"
            assert _square_app(5).result(timeout=self.timeout) == 25
            if hasattr(executor, "outstanding"):
                assert wait_for(lambda: _outstanding(executor) == 0, self.timeout)
            if is_block_executor(executor):
                self._check_blocks(executor)
                if hasattr(executor, "connected_managers"):
                    self._check_managers(executor)
            during = _descendants() or {}
        finally:
            dfk.cleanup()
        if before is not None:
            self.assert_leaves_no_processes(before, during)

    # --------------------------------------------------------------- checks
    def _check_blocks(self, executor: Any) -> None:
        expected = _init_blocks(executor)
        status = executor.status()
        assert isinstance(status, dict), f"status() must return a dict, not {type(status).__name__}"
        assert all(isinstance(k, str) for k in status), f"block ids must be strings: {list(status)}"
        assert all(isinstance(v, JobStatus) for v in status.values()), (
            f"status() values must be parsl.jobs.states.JobStatus: {status}"
        )
        assert len(status) == expected, (
            f"provider.init_blocks={expected} but {len(status)} blocks were launched ({sorted(status)}): "
            f"start() must not launch blocks itself; the DataFlowKernel (or whoever drives the "
            f"executor) calls scale_out_facade(init_blocks) after it"
        )
        resources = getattr(executor.provider, "resources", None)
        if isinstance(resources, dict):
            assert len(resources) == expected, (
                f"the provider holds {len(resources)} jobs, expected init_blocks={expected}"
            )

    def _check_managers(self, executor: Any) -> None:
        managers = self.wait_for_blocks_to_connect(executor)
        launched = set(executor.status())
        connected = {str(m["block_id"]) for m in managers}
        assert connected == launched, (
            f"managers of blocks {sorted(connected)} connected; launched {sorted(launched)}"
        )
        assert len(connected) == _init_blocks(executor)
