"""``TaskVineFactoryConfig``: how Parsl's TaskVineExecutor starts workers through a TaskVine factory.

A plain dataclass with Parsl's fields and defaults (the ``_project_*`` fields are filled in
by the executor from its manager config), so configurations that build one load unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TaskVineFactoryConfig"]


@dataclass
class TaskVineFactoryConfig:
    """Factory timeouts and scratch space, how many workers and how fast to start them, each
    worker's options, executable, idle timeout and resources, its Python environment, and the
    batch system the factory submits to (``batch_type``, ``condor_requirements``,
    ``batch_options``)."""

    factory_timeout: int = 300
    scratch_dir: str | None = None
    min_workers: int = 1
    max_workers: int = 1
    workers_per_cycle: int = 1
    worker_options: str | None = None
    worker_executable: str = "vine_worker"
    worker_timeout: int = 300
    cores: int | None = None
    gpus: int | None = None
    memory: int | None = None
    disk: int | None = None
    python_env: str | None = None
    batch_type: str = "local"
    condor_requirements: str | None = None
    batch_options: str | None = None
    _project_port: int = 0
    _project_address: str | None = None
    _project_name: str | None = None
    _project_password_file: str | None = None
