"""``TaskVineManagerConfig``: how Parsl's TaskVineExecutor sets up its TaskVine manager.

A plain dataclass with Parsl's fields and defaults, so configurations that build one load
unchanged (the executor itself is not shipped by parslcore).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VINE_DEFAULT_PORT", "TaskVineManagerConfig"]

try:
    from ndcctools.taskvine.cvine import VINE_DEFAULT_PORT
except ImportError:
    VINE_DEFAULT_PORT = 0  # TaskVine picks any free port


@dataclass
class TaskVineManagerConfig:
    """The manager's network endpoint, project and password, task environment (``env_vars``,
    ``init_command``, ``env_pack``/``app_pack``/``extra_pkgs``), retries, serverless
    ``library_config``, ``shared_fs``, resource autolabelling (``autolabel``,
    ``autolabel_algorithm``, ``autolabel_window``, ``autocategory``), peer transfers,
    ``wait_for_workers``, extra ``tune_parameters`` and where TaskVine logs (``vine_log_dir``)."""

    port: int = VINE_DEFAULT_PORT
    address: str | None = None
    project_name: str | None = None
    project_password_file: str | None = None
    env_vars: dict | None = None
    init_command: str = ""
    env_pack: str | None = None
    app_pack: bool = False
    extra_pkgs: list | None = None
    max_retries: int = 1
    library_config: dict | None = None
    shared_fs: bool = False
    autolabel: bool = False
    autolabel_algorithm: str = "max-xput"
    autolabel_window: int | None = None
    autocategory: bool = True
    enable_peer_transfers: bool = True
    wait_for_workers: int | None = None
    tune_parameters: dict | None = None
    vine_log_dir: str | None = None
