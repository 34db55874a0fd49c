"""``parsl.config.Config``: everything a DataFlowKernel needs, validated at construction.

Both eras of Parsl configuration are accepted: the 0.9-era fields
(``checkpoint_mode=``, ``lazy_errors=``, ``data_management_max_threads=``, ...) and the
current ones (``memoizer=``, ``exit_mode=``, ``std_autopath=``, ``dependency_resolver=``, ...).
A wrong value raises :class:`parsl.errors.ConfigurationError` naming the field and the fix;
a value of the wrong type, or not one of a field's fixed choices, raises its subclass
:class:`parsl.errors.TypeCheckError` (also a ``typeguard.TypeCheckError`` and a ``TypeError``,
as Parsl's typeguard-checked ``Config`` raises).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from parsl.dataflow.memoization import CHECKPOINT_MODES, checkpoint_mode_choices
from parsl.errors import ConfigurationError, type_check_error
from parsl.utils import RepresentationMixin

if TYPE_CHECKING:
    from parsl.dataflow.dependency_resolvers import DependencyResolver
    from parsl.dataflow.memoization import Memoizer
    from parsl.dataflow.taskrecord import TaskRecord
    from parsl.executors.base import ParslExecutor
    from parsl.logconfigs.base import LogConfig
    from parsl_monitoring.hub import MonitoringHub

__all__ = ["Config"]

_F = TypeVar("_F", bound="Callable[..., Any]")

_EXIT_MODES = ("cleanup", "skip", "wait")
_STRATEGIES = (None, "none", "simple", "htex_auto_scale")
_PERIOD_RE = re.compile(r"^\d+:\d{1,2}:\d{1,2}$")


def _check_type(field: str, value: object, types: type | tuple[type, ...], fix: str) -> None:
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        raise type_check_error(
            f"Config({field}={value!r}): expected {_type_names(types)}, got {type(value).__name__}. {fix}"
        )


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(types))


class Config(RepresentationMixin):
    """Configuration of a Parsl workflow: executors, retries, memoization, scaling, logging.

    Parameters follow Parsl's: ``executors`` (default: one ``ThreadPoolExecutor``),
    ``app_cache``, ``checkpoint_files``, ``checkpoint_mode`` (``task_exit``, ``periodic``,
    ``dfk_exit``, ``manual``), ``checkpoint_period`` ("HH:MM:SS"), ``dependency_resolver``,
    ``exit_mode`` (``cleanup``, ``skip``, ``wait``) used by ``with parsl.load(cfg):``,
    ``garbage_collect``, ``internal_tasks_max_threads``, ``retries``, ``retry_handler``,
    ``run_dir``, ``std_autopath``, ``strategy`` (``simple``, ``htex_auto_scale``, ``none``),
    ``strategy_period``, ``max_idletime``, ``monitoring``, ``usage_tracking``, ``project_name``,
    ``initialize_logging``, ``memoizer``, ``observers`` (extra plugin objects registered with
    this DataFlowKernel only), and the 0.9-era ``lazy_errors`` and
    ``data_management_max_threads``.
    """

    def __init__(
        self,
        executors: Iterable[ParslExecutor] | None = None,
        app_cache: bool = True,
        checkpoint_files: Sequence[str] | None = None,
        checkpoint_mode: Literal["task_exit", "periodic", "dfk_exit", "manual"] | None = None,
        checkpoint_period: str | None = None,
        dependency_resolver: DependencyResolver | None = None,
        exit_mode: Literal["cleanup", "skip", "wait"] = "cleanup",
        garbage_collect: bool = True,
        internal_tasks_max_threads: int = 10,
        retries: int = 0,
        retry_handler: Callable[[Exception, TaskRecord], float] | None = None,
        run_dir: str = "runinfo",
        std_autopath: Callable[[TaskRecord, str], str] | None = None,
        strategy: str | None = "simple",
        strategy_period: float = 5,
        max_idletime: float = 120.0,
        monitoring: MonitoringHub | None = None,
        usage_tracking: int | bool = 0,
        project_name: str | None = None,
        initialize_logging: bool | LogConfig = True,
        memoizer: Memoizer | None = None,
        observers: Sequence[object] | None = None,
        lazy_errors: bool = True,
        data_management_max_threads: int | None = None,
    ) -> None:
        self._executors: Sequence[ParslExecutor] = self._executor_list(executors)
        _check_type("app_cache", app_cache, bool, "Use True or False.")
        self.app_cache = app_cache
        self.checkpoint_files, self.checkpoint_mode, self.checkpoint_period = _checkpointing(
            checkpoint_files, checkpoint_mode, checkpoint_period
        )
        self.dependency_resolver = _dependency_resolver(dependency_resolver)
        if exit_mode not in _EXIT_MODES:
            raise type_check_error(
                f"Config(exit_mode={exit_mode!r}) is not an exit mode; use 'cleanup', 'skip' or 'wait'"
            )
        self.exit_mode = exit_mode
        _check_type("garbage_collect", garbage_collect, bool, "Use True or False.")
        self.garbage_collect = garbage_collect
        _check_type("internal_tasks_max_threads", internal_tasks_max_threads, int, "Use a positive int.")
        if internal_tasks_max_threads < 1:
            raise ConfigurationError(
                f"Config(internal_tasks_max_threads={internal_tasks_max_threads}) must be at least 1"
            )
        self.internal_tasks_max_threads = internal_tasks_max_threads
        self.retries, self.retry_handler = _retrying(retries, retry_handler)
        _check_type("run_dir", run_dir, str, "Use a directory path such as 'runinfo'.")
        self.run_dir = run_dir
        self.std_autopath = _callable_or_none(
            "std_autopath", std_autopath, "a callable (task_record, kind) -> path"
        )
        self.strategy, self.strategy_period, self.max_idletime = _scaling(
            strategy, strategy_period, max_idletime
        )
        self.monitoring = monitoring
        self.usage_tracking, self.project_name = _usage_tracking(usage_tracking, project_name)
        self.initialize_logging = _logging_setting(initialize_logging)
        self.memoizer = _memoizer(memoizer, self.checkpoint_mode, self.checkpoint_files)
        self.observers = _list_of(
            "observers", [] if observers is None else observers, "plugin objects", "observers=[MyObserver()]"
        )
        self.lazy_errors, self.data_management_max_threads = _legacy_fields(
            lazy_errors, data_management_max_threads
        )

    @classmethod
    def _executor_list(cls, executors: Iterable[ParslExecutor] | None) -> list[ParslExecutor]:
        """The executors as a validated list; None gives one ThreadPoolExecutor."""
        if executors is None:
            from parsl.executors.threads import ThreadPoolExecutor

            executors = [ThreadPoolExecutor()]
        executors = _list_of("executors", executors, "executors", "executors=[ThreadPoolExecutor()]")
        cls._validate_executors(executors)
        return executors

    @staticmethod
    def _validate_executors(executors: Sequence[object]) -> None:
        from parsl.executors.base import INTERNAL_EXECUTOR_LABEL, ParslExecutor

        labels: set[str] = set()
        for i, ex in enumerate(executors):
            if isinstance(ex, type):
                raise type_check_error(
                    f"Config(executors=[...]) item {i} is the class {ex.__name__}, not an instance; "
                    f"write {ex.__name__}() instead"
                )
            if not isinstance(ex, ParslExecutor):
                raise type_check_error(
                    f"Config(executors=[...]) item {i} is {ex!r} ({type(ex).__name__}), not an executor; "
                    f"use e.g. ThreadPoolExecutor() or HighThroughputExecutor()"
                )
            if ex.label in labels:
                raise ConfigurationError(
                    f"Config(executors=[...]) has two executors labelled {ex.label!r}; "
                    f"give each a unique label="
                )
            labels.add(ex.label)
            if ex.label == INTERNAL_EXECUTOR_LABEL:
                raise ConfigurationError(
                    f"Config(executors=[...]) item {i} uses the reserved label {INTERNAL_EXECUTOR_LABEL!r}; "
                    f"choose another label="
                )

    @property
    def executors(self) -> Sequence[ParslExecutor]:
        return self._executors

    @executors.setter
    def executors(self, executors: Sequence[ParslExecutor]) -> None:
        executors = list(executors)
        self._validate_executors(executors)
        self._executors = executors

    def get_usage_information(self) -> dict[str, Any]:
        return {
            "executors_len": len(self.executors),
            "dependency_resolver": self.dependency_resolver is not None,
        }


def _list_of(field: str, value: object, what: str, example: str) -> list[Any]:
    """``value`` as a list; a string or a non-iterable is refused with an example of the fix."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise type_check_error(f"Config({field}={value!r}): expected a list of {what}, e.g. {example}")
    return list(value)


def _callable_or_none(field: str, value: _F | None, what: str) -> _F | None:
    if value is not None and not callable(value):
        raise type_check_error(f"Config({field}={value!r}) must be {what}")
    return value


def _checkpointing(
    files: Sequence[str] | None, mode: str | None, period: str | None
) -> tuple[list[str] | None, str | None, str | None]:
    """The 0.9-era checkpoint fields, validated; ``periodic`` without a period gets 30 minutes."""
    if files is not None:
        files = _list_of(
            "checkpoint_files", files, "checkpoint directories", "checkpoint_files=get_all_checkpoints()"
        )
    if mode not in CHECKPOINT_MODES:
        raise type_check_error(
            f"Config(checkpoint_mode={mode!r}) is not a checkpoint mode; use one of {checkpoint_mode_choices()}"
        )
    if period is not None:
        if mode != "periodic":
            raise ConfigurationError(
                f"Config(checkpoint_period={period!r}) only applies with "
                f"checkpoint_mode='periodic' (got checkpoint_mode={mode!r})"
            )
        if not isinstance(period, str) or not _PERIOD_RE.match(period):
            raise ConfigurationError(
                f"Config(checkpoint_period={period!r}): use an 'HH:MM:SS' string, "
                f"e.g. checkpoint_period='00:30:00'"
            )
    elif mode == "periodic":
        period = "00:30:00"
    return files, mode, period


def _dependency_resolver(resolver: DependencyResolver | None) -> DependencyResolver | None:
    if resolver is not None and not (
        hasattr(resolver, "traverse_to_gather") and hasattr(resolver, "traverse_to_unwrap")
    ):
        raise type_check_error(
            f"Config(dependency_resolver={resolver!r}) is not a DependencyResolver; use "
            f"parsl.dataflow.dependency_resolvers.DEEP_DEPENDENCY_RESOLVER or SHALLOW_DEPENDENCY_RESOLVER"
        )
    return resolver


def _retrying(
    retries: int, retry_handler: Callable[[Exception, TaskRecord], float] | None
) -> tuple[int, Callable[[Exception, TaskRecord], float] | None]:
    _check_type("retries", retries, int, "Use the number of times to retry a failed task, e.g. 2.")
    if retries < 0:
        raise ConfigurationError(f"Config(retries={retries}) must be 0 or more")
    handler = _callable_or_none("retry_handler", retry_handler, "a callable (exception, task_record) -> cost")
    return retries, handler


def _scaling(strategy: str | None, period: float, max_idletime: float) -> tuple[str | None, float, float]:
    """The elastic scaling fields: strategy name, seconds between passes, idle seconds before scale-in."""
    if strategy not in _STRATEGIES:
        raise type_check_error(
            f"Config(strategy={strategy!r}) is not a scaling strategy; use 'simple', "
            f"'htex_auto_scale' or 'none'"
        )
    _check_type("strategy_period", period, (int, float), "Use a number of seconds.")
    if period <= 0:
        raise ConfigurationError(f"Config(strategy_period={period}) must be positive")
    _check_type("max_idletime", max_idletime, (int, float), "Use a number of seconds.")
    if max_idletime < 0:
        raise ConfigurationError(f"Config(max_idletime={max_idletime}) must be 0 or more")
    return strategy, period, float(max_idletime)


def _usage_tracking(level: int | bool, project_name: str | None) -> tuple[int | bool, str | None]:
    _check_type("usage_tracking", level, (int, bool), "Use 0 (off) to 3.")
    if not 0 <= level <= 3:
        raise ConfigurationError(f"Config(usage_tracking={level!r}): use 0 (off), 1, 2 or 3")
    if project_name is not None:
        _check_type("project_name", project_name, str, "Use a short name for your project.")
    return level, project_name


def _logging_setting(initialize_logging: bool | LogConfig) -> bool | LogConfig:
    if not isinstance(initialize_logging, bool) and not callable(
        getattr(initialize_logging, "initialize_logging", None)
    ):
        raise type_check_error(
            f"Config(initialize_logging={initialize_logging!r}): use True, False or a log "
            f"configuration object with an initialize_logging(log_dir=, log_name=) method"
        )
    return initialize_logging


def _memoizer(
    memoizer: Memoizer | None, checkpoint_mode: str | None, checkpoint_files: list[str] | None
) -> Memoizer | None:
    """A memoizer object, which then owns all checkpoint settings."""
    if memoizer is not None:
        if not hasattr(memoizer, "check_memo") or not hasattr(memoizer, "update_memo"):
            raise type_check_error(
                f"Config(memoizer={memoizer!r}) is not a Memoizer; use "
                f"parsl.dataflow.memoization.BasicMemoizer(...)"
            )
        if checkpoint_mode is not None or checkpoint_files is not None:
            raise ConfigurationError(
                "Config(memoizer=...) and Config(checkpoint_mode=/checkpoint_files=) both set "
                "checkpointing; move the checkpoint settings into BasicMemoizer(...)"
            )
    return memoizer


def _legacy_fields(lazy_errors: bool, data_management_max_threads: int | None) -> tuple[bool, int | None]:
    """The 0.9-era fields kept so old configurations load: both are recorded, neither changes anything."""
    _check_type("lazy_errors", lazy_errors, bool, "Use True or False.")
    if not lazy_errors:
        warnings.warn(
            "Config(lazy_errors=False) has no effect: errors are always delivered through the app's future",
            DeprecationWarning,
            stacklevel=3,  # the user's Config(...) call
        )
    if data_management_max_threads is not None:
        _check_type("data_management_max_threads", data_management_max_threads, int, "Use a positive int.")
    return lazy_errors, data_management_max_threads
