"""Hook specifications for Parsl plugins.

Hooks only: the plugin manager lives in :mod:`parsl.plugins`. A plugin is a module or
object with functions decorated by ``parsl.hookimpl`` and named after a hook below; it is
found through the ``parsl`` entry-point group, or registered for one DataFlowKernel by
naming it in ``Config(observers=[...])`` / ``Config(monitoring=...)``.

Hooks only ever gain arguments, never lose or rename them; an implementation may accept
fewer arguments than the spec lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.states import States
    from parsl.dataflow.taskrecord import TaskRecord

hookspec = pluggy.HookspecMarker("parsl")

__all__ = [
    "hookspec",
    "parsl_default_staging",
    "parsl_dfk_started",
    "parsl_dfk_stopped",
    "parsl_executor_messages",
    "parsl_register_executors",
    "parsl_register_launchers",
    "parsl_register_providers",
    "parsl_register_serializers",
    "parsl_register_staging_providers",
    "parsl_task_launching",
    "parsl_task_state_changed",
]

# ---------------------------------------------------------------------------
# Registration hooks: declare classes, no side effects.
# ---------------------------------------------------------------------------


@hookspec
def parsl_register_executors() -> list[type]:
    """Return the executor classes this plugin provides.

    Called when a plugin manager is built (once per process for listings and name lookups,
    and once per DataFlowKernel). Each class subclasses
    :class:`parsl.executors.base.ParslExecutor` and has a ``PLUGIN_NAME`` class attribute.
    Registered classes are listed by ``python -m parsl plugins`` and importable as
    ``parsl.executors.<ClassName>``.
    """


@hookspec
def parsl_register_providers() -> list[type]:
    """Return the execution provider classes this plugin provides.

    Each class subclasses :class:`parsl.providers.base.ExecutionProvider`. Registered
    classes are importable as ``parsl.providers.<ClassName>``.
    """


@hookspec
def parsl_register_launchers() -> list[type]:
    """Return the launcher classes this plugin provides.

    Each class subclasses :class:`parsl.launchers.base.Launcher`. Registered classes are
    importable as ``parsl.launchers.<ClassName>``.
    """


@hookspec
def parsl_register_staging_providers() -> list[type]:
    """Return the file staging provider classes this plugin provides.

    Each class subclasses :class:`parsl.data_provider.staging.Staging`.
    """


@hookspec
def parsl_register_serializers() -> list[type]:
    """Return serializer classes this plugin provides.

    Each class subclasses :class:`parsl.serialize.base.SerializerBase` and carries a unique
    two-byte ``identifier``; :func:`parsl.serialize.serialize` tries them in order of their
    ``priority`` (highest first) and records the identifier so any process can deserialize.
    """


@hookspec
def parsl_default_staging() -> list[Staging]:
    """Return staging provider *instances* to add to ``default_staging``.

    ``default_staging`` is what an executor uses when its ``storage_access`` is None. The
    builtin plugin contributes local-file staging; the staging package adds HTTP and FTP.
    """


# ---------------------------------------------------------------------------
# Lifecycle hooks: called in the workflow process by each DataFlowKernel.
# Exceptions raised by an implementation are logged and swallowed.
# ---------------------------------------------------------------------------


@hookspec
def parsl_dfk_started(dfk: DataFlowKernel) -> None:
    """Called once a DataFlowKernel has started its executors and before any task runs.

    :param dfk: the DataFlowKernel (``dfk.run_id``, ``dfk.run_dir``, ``dfk.config``).
    """


@hookspec
def parsl_task_state_changed(
    dfk: DataFlowKernel, task: TaskRecord, old_state: States, new_state: States
) -> None:
    """Called on every task state change, in the thread that made it.

    Implementations must be quick: they run on the task's hot path. When no plugin
    implements this hook the DataFlowKernel does not call it at all.

    :param dfk: the DataFlowKernel that owns the task.
    :param task: the task's record (``task.id``, ``task.func_name``, ``task.executor``, ...).
    :param old_state: the state the task leaves.
    :param new_state: the state the task enters.
    """


@hookspec
def parsl_dfk_stopped(dfk: DataFlowKernel) -> None:
    """Called once at the end of ``DataFlowKernel.cleanup()``, after executors shut down.

    :param dfk: the DataFlowKernel that stopped.
    """


@hookspec
def parsl_task_launching(dfk: DataFlowKernel, task: TaskRecord, func: Any, kwargs: dict[str, Any]) -> Any:
    """Called just before each try of a task is handed to its executor; may wrap the function.

    Return a replacement callable (called with the task's arguments instead of ``func``) or
    None to leave it alone. ``kwargs`` is this try's own copy of the keyword arguments: a
    wrapper may add private keys to it (for example the task and try ids) and must remove
    them before calling ``func``. Implementations run in turn, each receiving the previous
    one's result as ``func``. Return the same wrapper object for the same ``func`` where you
    can: executors serialize a function once and cache it by identity.

    When no plugin implements this hook the DataFlowKernel does not call it at all.

    :param dfk: the DataFlowKernel that owns the task.
    :param task: the task's record (``task.id``, ``task.try_id``, ``task.executor``, ...).
    :param func: the function about to be submitted.
    :param kwargs: the keyword arguments it will be called with (a copy, yours to extend).
    """


@hookspec
def parsl_executor_messages(dfk: DataFlowKernel, executor: str, messages: list[dict[str, Any]]) -> None:
    """Telemetry reported by an executor: block status, worker pools, task events from workers.

    Executors call ``self.send_monitoring_messages([...])``; the DataFlowKernel routes the
    batch here, from the executor's own thread. Each message is a dict with a ``"type"``:

    - ``"block"``: ``block_id``, ``job_id``, ``status`` (a JobState name), ``timestamp``;
    - ``"node"``: a worker pool registered, changed or left: ``uid``, ``hostname``,
      ``block_id``, ``cpu_count``, ``total_memory``, ``worker_count``, ``active``,
      ``python_v``, ``timestamp``, ``last_heartbeat``, ``event`` (``"registered"``,
      ``"dispatched"`` when it was given tasks, ``"held"``, ``"lost"``) and ``tasks`` (the
      ids of the tasks it holds);
    - anything a ``parsl_task_launching`` wrapper sent from inside the task (the monitoring
      package sends ``"task_running"``, ``"task_running_ended"`` and ``"resource"``).

    Timestamps are seconds since the epoch. Unknown types must be ignored.

    :param dfk: the DataFlowKernel the executor belongs to.
    :param executor: the executor's label.
    :param messages: the batch, oldest first.
    """
