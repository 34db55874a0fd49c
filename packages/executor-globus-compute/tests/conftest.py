"""Fixtures: a fake Globus Compute service (``fake_compute_service.py``) behind the real SDK.

- ``service``: a :class:`FakeComputeService`, closed after the test (with every SDK executor
  it made).
- ``sdk_executor``: a real ``globus_compute_sdk.Executor`` whose Client talks to ``service``.
- ``load``: ``parsl.load`` Configs under the test's tmp_path; every kernel is cleaned up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_compute_service import FakeComputeService


@pytest.fixture
def service():
    svc = FakeComputeService()
    yield svc
    svc.close()


@pytest.fixture
def sdk_executor(service):
    return service.sdk_executor()  # shut down, with its result watcher, when the service closes


@pytest.fixture
def load(tmp_path, monkeypatch):
    from parsl.testing.loader import Loader

    monkeypatch.chdir(tmp_path)
    with Loader(str(tmp_path / "runinfo")) as loader:
        yield loader
