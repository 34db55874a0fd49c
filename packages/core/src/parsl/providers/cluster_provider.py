"""``ClusterProvider``: shared base of batch-scheduler providers (Slurm, PBS, LSF, ...).

It keeps the job table, runs scheduler commands with a timeout, renders submit
scripts from ``string.Template`` text and refreshes job states through the
subclass's ``_status()``.
"""

from __future__ import annotations

import inspect
import logging
import numbers
from abc import abstractmethod
from string import Template
from typing import Any

from parsl.jobs.states import JobState, JobStatus
from parsl.providers.base import ExecutionProvider
from parsl.providers.errors import SchedulerMissingArgs, ScriptPathError
from parsl.utils import execute_wait

logger = logging.getLogger(__name__)

__all__ = ["ClusterProvider"]

_P = inspect.Parameter
_COMMON = [
    "nodes_per_block",
    "init_blocks",
    "min_blocks",
    "max_blocks",
    "parallelism",
    "walltime",
    "launcher",
]
# Current argument order, plus ``channel`` accepted by keyword for old configurations.
_SIGNATURE = inspect.Signature(
    [_P("self", _P.POSITIONAL_OR_KEYWORD), _P("label", _P.POSITIONAL_OR_KEYWORD)]
    + [_P(n, _P.POSITIONAL_OR_KEYWORD) for n in _COMMON]
    + [_P("cmd_timeout", _P.POSITIONAL_OR_KEYWORD, default=10), _P("channel", _P.KEYWORD_ONLY, default=None)]
)
# Order used by subclasses written for Parsl versions that had channels.
_LEGACY_SIGNATURE = inspect.Signature(
    [
        _P("self", _P.POSITIONAL_OR_KEYWORD),
        _P("label", _P.POSITIONAL_OR_KEYWORD),
        _P("channel", _P.POSITIONAL_OR_KEYWORD),
    ]
    + [_P(n, _P.POSITIONAL_OR_KEYWORD) for n in _COMMON]
    + [_P("cmd_timeout", _P.POSITIONAL_OR_KEYWORD, default=10)]
)


def _is_count(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class ClusterProvider(ExecutionProvider):
    """Base class for providers that talk to a batch scheduler through shell commands.

    Parameters
    ----------
    label : str
        Name of the provider.
    nodes_per_block : int
        Nodes requested by each job.
    init_blocks, min_blocks, max_blocks : int
        Blocks at start, and the bounds the scaling strategy keeps to.
    parallelism : float
        Share (0 to 1) of pending tasks that should get a slot.
    walltime : str
        Walltime of each job, ``HH:MM:SS``.
    launcher : Launcher
        Wraps the worker command inside the job script.
    cmd_timeout : int
        Seconds allowed to each scheduler command (``sbatch``, ``squeue``, ...).
    channel : Channel, optional
        Accepted for configurations written for older Parsl; when given, scheduler
        commands are run through its ``execute_wait``.

    Subclasses implement ``submit``, ``cancel``, ``status_polling_interval`` and
    ``_status()``, which refreshes ``self.resources[job_id]['status']`` (a
    ``JobStatus``) for the jobs that are not yet terminal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        legacy = len(args) >= 2 and not _is_count(args[1])
        signature = _LEGACY_SIGNATURE if legacy else _SIGNATURE
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        self._label = a["label"]
        self.channel = a["channel"]
        self.nodes_per_block = a["nodes_per_block"]
        self.init_blocks = a["init_blocks"]
        self.min_blocks = a["min_blocks"]
        self.max_blocks = a["max_blocks"]
        self.parallelism = a["parallelism"]
        self.walltime = a["walltime"]
        self.launcher = a["launcher"]
        self.cmd_timeout = a["cmd_timeout"]
        if not callable(self.launcher):
            from parsl.launchers.errors import BadLauncher  # import cycle: it subclasses a provider error

            raise BadLauncher(
                self.launcher,
                f"launcher of provider {self._label!r} is a {type(self.launcher).__name__}; "
                "expected a parsl.launchers Launcher such as SingleNodeLauncher() or "
                "another callable",
            )
        self.script_dir: str | None = None
        # job_id -> {'job_id': ..., 'status': JobStatus, ...}
        self.resources: dict[Any, dict[str, Any]] = {}

    __init__.__signature__ = _SIGNATURE  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return self._label

    def execute_wait(self, cmd: str, timeout: float | None = None) -> tuple[int, str, str]:
        """Run a scheduler command; return (exit code, stdout, stderr)."""
        limit = self.cmd_timeout if timeout is None else timeout
        if self.channel is not None:
            return self.channel.execute_wait(cmd, limit)
        return execute_wait(cmd, limit)

    def _write_submit_script(
        self, template: str, script_filename: str, job_name: str, configs: dict[str, Any]
    ) -> bool:
        """Fill ``template`` (``$name`` placeholders) and write it to ``script_filename``.

        ``$jobname`` is ``job_name``; every other placeholder comes from ``configs``.
        Raises ``SchedulerMissingArgs`` for a placeholder with no value and
        ``ScriptPathError`` if the file cannot be written.
        """
        try:
            text = Template(template).substitute(jobname=job_name, **configs)
        except KeyError as e:
            logger.error("Submit script template needs %s, which the provider did not supply", e)
            raise SchedulerMissingArgs(e.args, self.label) from e
        try:
            with open(script_filename, "w") as f:
                f.write(text)
        except OSError as e:
            logger.error("Failed writing submit script %s: %s", script_filename, e)
            raise ScriptPathError(script_filename, e) from e
        return True

    @abstractmethod
    def _status(self) -> None:
        """Refresh the ``'status'`` entry of every non-terminal job in ``self.resources``."""

    def status(self, job_ids: list[Any]) -> list[JobStatus]:
        """Return the status of each job, asking the scheduler only if one may still change."""
        if any(self._may_change(jid) for jid in job_ids):
            self._status()
        result = []
        for jid in job_ids:
            record = self.resources.get(jid)
            if record is None:
                result.append(JobStatus(JobState.MISSING, message=f"unknown job id {jid!r}"))
            else:
                result.append(record["status"])
        return result

    def _may_change(self, job_id: Any) -> bool:
        record = self.resources.get(job_id)
        if record is None:
            return False
        status = record.get("status")
        return not (isinstance(status, JobStatus) and status.terminal)
