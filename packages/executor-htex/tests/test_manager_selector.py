"""Manager selectors: Parsl's ``sort_managers(ready_managers, manager_list)`` interface on the
builtins, and a user selector written against Parsl's interface steering a real interchange."""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.high_throughput.manager_selector import (
    BlockIdManagerSelector,
    ManagerSelector,
    RandomManagerSelector,
)
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor
from parsl_executor_htex.interchange import ManagerRecord

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
from htex_test_selectors import LowestBlockFirst  # noqa: E402


def record(ident: bytes, block_id, workers=1) -> ManagerRecord:
    return ManagerRecord(ident, {"block_id": block_id, "worker_count": workers, "hostname": "h"})


def test_the_base_class_is_abstract():
    with pytest.raises(TypeError):
        ManagerSelector()


def test_block_id_selector_parsl_interface():
    ready = {
        b"manager1": {"block_id": 1},
        b"manager2": {"block_id": None},
        b"manager3": {"block_id": 3},
        b"manager4": {"block_id": 2},
    }
    ordered = BlockIdManagerSelector().sort_managers(ready, set(ready))
    assert ordered == [b"manager2", b"manager1", b"manager4", b"manager3"]  # popped from the end


def test_block_id_selector_orders_numerically():
    ready = {b"a": {"block_id": "9"}, b"b": {"block_id": "10"}, b"c": {"block_id": "2"}}
    assert BlockIdManagerSelector().sort_managers(ready, set(ready)) == [b"c", b"a", b"b"]
    records = [record(b"a", "9"), record(b"b", "10"), record(b"c", "2")]
    assert [r.ident for r in BlockIdManagerSelector().sort_managers(records)] == [b"b", b"a", b"c"]


def test_random_selector_both_interfaces_keep_every_manager():
    ready = {bytes([i]): {"block_id": i} for i in range(20)}
    assert sorted(RandomManagerSelector().sort_managers(ready, set(ready))) == sorted(ready)
    records = [record(bytes([i]), str(i)) for i in range(20)]
    assert sorted(r.ident for r in RandomManagerSelector().sort_managers(records)) == sorted(ready)


def test_parsl_style_subclass_answers_the_interchange():
    sel = pickle.loads(pickle.dumps(LowestBlockFirst()))  # it travels to the interchange pickled
    records = [record(b"x", "2"), record(b"y", "0"), record(b"z", "1")]
    assert [r.ident for r in sel.sort_managers(records)] == [b"y", b"z", b"x"]
    # and still answers Parsl's call unchanged
    ready = {b"x": {"block_id": "2"}, b"y": {"block_id": "0"}}
    assert sel.sort_managers(ready, set(ready)) == [b"x", b"y"]


@python_app
def block_id():
    import os

    return os.environ["PARSL_WORKER_BLOCK_ID"]


@pytest.mark.slow
def test_parsl_style_selector_steers_a_real_interchange(tmp_path, htex_tools, monkeypatch):
    # the interchange process unpickles the selector, importing its module by name
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p))
    before = htex_tools.processes()
    ex = HighThroughputExecutor(
        label="htex",
        max_workers_per_node=1,
        manager_selector=LowestBlockFirst(),
        provider=LocalProvider(init_blocks=2, max_blocks=2),
    )
    with parsl.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), strategy="none")):
        deadline = time.monotonic() + 60
        while len(ex.connected_managers()) < 2:
            assert time.monotonic() < deadline, "two worker pools never connected"
            time.sleep(0.05)
        assert [block_id().result(timeout=60) for _ in range(4)] == ["0"] * 4
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived cleanup"
