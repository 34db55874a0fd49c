"""The ``ExecutionProvider`` interface every provider implements.

A provider obtains blocks of compute resources (a batch job, a local process
group, a cloud instance), reports their state and gives them back. Executors
call it through three methods: ``submit``, ``status`` and ``cancel``.
"""

from __future__ import annotations

import logging
import numbers
from abc import ABCMeta, abstractmethod
from typing import Any, NoReturn, TypeGuard

from parsl.jobs.states import JobState, JobStatus

logger = logging.getLogger(__name__)

__all__ = ["ExecutionProvider", "JobState", "JobStatus", "validate_provider"]


class _PerInstanceDict:
    """Class attribute that hands each instance its own dict on first read.

    Providers written for upstream Parsl do not call ``ExecutionProvider.__init__``,
    yet the executor expects ``provider.resources`` to exist.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value: dict[str, Any] = {}
        instance.__dict__[self.name] = value
        return value


class _ProviderMeta(ABCMeta):
    """Checks the block numbers of every provider once its ``__init__`` has run."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().__call__(*args, **kwargs)
        validate_provider(instance)
        return instance


class ExecutionProvider(metaclass=_ProviderMeta):
    """Base class of everything that provides blocks of resources to an executor.

    Subclasses implement ``submit``, ``status``, ``cancel`` and the ``label`` and
    ``status_polling_interval`` properties, and set the block attributes
    ``init_blocks``, ``min_blocks``, ``max_blocks``, ``nodes_per_block`` and
    ``parallelism`` (between 0 and 1: the share of pending tasks that should get
    a slot). ``script_dir`` is set by the executor to the directory where job
    scripts go; ``resources`` maps job ids to whatever the provider tracks.
    These numbers are checked when the provider is built, and an impossible
    combination raises ``parsl.errors.ConfigurationError``.

    A complete third-party provider that runs each block as a local process::

        import subprocess

        from parsl.jobs.states import JobState, JobStatus
        from parsl.providers.base import ExecutionProvider
        from parsl.utils import RepresentationMixin


        class SubprocessProvider(ExecutionProvider, RepresentationMixin):
            def __init__(self, init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1.0):
                self.init_blocks = init_blocks
                self.min_blocks = min_blocks
                self.max_blocks = max_blocks
                self.parallelism = parallelism
                self.nodes_per_block = 1
                self.script_dir = None
                self.resources = {}

            @property
            def label(self):
                return "subprocess"

            @property
            def status_polling_interval(self):
                return 5

            def submit(self, command, tasks_per_node, job_name="parsl.auto"):
                proc = subprocess.Popen(["/bin/bash", "-c", command], start_new_session=True)
                job_id = str(proc.pid)
                self.resources[job_id] = proc
                return job_id

            def status(self, job_ids):
                statuses = []
                for job_id in job_ids:
                    proc = self.resources.get(job_id)
                    if proc is None:
                        statuses.append(JobStatus(JobState.MISSING))
                    elif proc.poll() is None:
                        statuses.append(JobStatus(JobState.RUNNING))
                    elif proc.returncode == 0:
                        statuses.append(JobStatus(JobState.COMPLETED, exit_code=0))
                    else:
                        statuses.append(JobStatus(JobState.FAILED, exit_code=proc.returncode))
                return statuses

            def cancel(self, job_ids):
                for job_id in job_ids:
                    proc = self.resources[job_id]
                    proc.terminate()
                    proc.wait()
                return [True] * len(job_ids)

    Use it like any built-in provider:
    ``HighThroughputExecutor(provider=SubprocessProvider(max_blocks=2))``.
    """

    # Defaults for providers that never call ExecutionProvider.__init__.
    init_blocks: int = 1
    min_blocks: int = 0
    max_blocks: int = 1
    nodes_per_block: int = 1
    parallelism: float = 1
    script_dir: str | None = None
    # a descriptor that gives each instance its own dict, declared as the dict it hands out
    resources: dict[str, Any] = _PerInstanceDict()  # type: ignore[assignment]
    _cores_per_node: int | None = None
    _mem_per_node: float | None = None

    def __init__(self) -> None:
        self.script_dir = None
        self.resources = {}

    @abstractmethod
    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.auto") -> object:
        """Start one block running ``command`` and return its job id.

        Executors keep ``str(job_id)`` and pass that to ``status`` and ``cancel``.

        ``tasks_per_node`` is how many copies of the command each node runs
        (usually through the provider's launcher). A false return value means the
        submission failed without raising; errors should raise
        ``parsl.providers.errors.SubmitException`` or another
        ``ExecutionProviderException``.
        """

    @abstractmethod
    def status(self, job_ids: list[str]) -> list[JobStatus]:
        """Return one ``JobStatus`` per job id, in the same order."""

    @abstractmethod
    def cancel(self, job_ids: list[str]) -> list[bool]:
        """Stop the given jobs; return one boolean per job telling whether that worked."""

    @property
    @abstractmethod
    def label(self) -> str:
        """Short name of this provider, used in logs and run directories."""

    @property
    @abstractmethod
    def status_polling_interval(self) -> float:
        """Seconds between two calls of ``status()`` by the job status poller."""

    @property
    def cores_per_node(self) -> int | None:
        """Cores a node of a block has, when the provider knows or requests it; else None.

        Executors use it to size the number of workers per node.
        """
        return self._cores_per_node

    @cores_per_node.setter
    def cores_per_node(self, value: int | None) -> None:
        self._cores_per_node = value

    @property
    def mem_per_node(self) -> float | None:
        """Memory (GB) a node of a block has, when the provider knows or requests it; else None."""
        return self._mem_per_node

    @mem_per_node.setter
    def mem_per_node(self, value: float | None) -> None:
        self._mem_per_node = value


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def validate_provider(provider: object) -> None:
    """Raise ``ConfigurationError`` if the provider's block numbers cannot work together."""
    from parsl.errors import ConfigurationError

    name = type(provider).__name__
    values = {
        field: getattr(provider, field, None)
        for field in ("init_blocks", "min_blocks", "max_blocks", "nodes_per_block", "parallelism")
    }

    def refuse(field: str, problem: str, fix: str) -> NoReturn:
        raise ConfigurationError(f"{name}: {field}={values[field]!r} {problem}; {fix}")

    for field in ("init_blocks", "min_blocks", "max_blocks"):
        value = values[field]
        if _number(value) and value < 0:
            refuse(field, "is negative", f"set {field} to 0 or a positive number of blocks")
    npb = values["nodes_per_block"]
    if _number(npb) and npb < 1:
        refuse("nodes_per_block", "must be at least 1", "set nodes_per_block=1 for single-node blocks")
    low, high = values["min_blocks"], values["max_blocks"]
    if _number(low) and _number(high) and low > high:
        refuse(
            "min_blocks",
            f"is greater than max_blocks={high!r}",
            f"raise max_blocks to at least {low!r} or lower min_blocks",
        )
    par = values["parallelism"]
    if _number(par) and par < 0:
        refuse(
            "parallelism",
            "is negative",
            "use 1 to give every pending task a slot, or a smaller fraction to provision fewer blocks",
        )
    init = values["init_blocks"]
    if _number(init) and _number(high) and init > high:
        logger.warning(
            "%s: init_blocks=%r is greater than max_blocks=%r; more blocks than max_blocks "
            "will be started at first",
            name,
            init,
            high,
        )
