"""Shared fixtures for the kernel tests.

``load`` loads a Config whose run directory lives under the test's tmp_path (and chdirs
there, so nothing a test writes litters the repository); every DataFlowKernel it loaded is
cleaned up afterwards even when the test fails, so a broken test never leaks a loaded
kernel into the next one.
"""

from __future__ import annotations

import sys

import pytest


def _cleanup_current() -> None:
    dflow = sys.modules.get("parsl.dataflow.dflow")
    if dflow is None:
        return
    current = dflow.DataFlowKernelLoader._dfk
    if current is not None:
        if not current.cleanup_called:
            current.cleanup()
        dflow.DataFlowKernelLoader.clear()


@pytest.fixture(autouse=True)
def _no_leaked_dfk():
    """Whatever a test does, no loaded DataFlowKernel survives it."""
    _cleanup_current()
    yield
    _cleanup_current()


@pytest.fixture
def run_dir(tmp_path):
    return str(tmp_path / "runinfo")


@pytest.fixture
def load(tmp_path, monkeypatch, run_dir):
    """``load(config=None, **config_kwargs)``: parsl.load a Config; always cleaned up."""
    from parsl.testing.loader import Loader

    monkeypatch.chdir(tmp_path)
    with Loader(run_dir) as loader:
        yield loader


@pytest.fixture
def dfk(load):
    """A loaded DataFlowKernel with one 4-thread ThreadPoolExecutor labelled 'threads'."""
    return load()
