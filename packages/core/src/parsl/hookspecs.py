"""Hook specifications for Parsl plugins.

Hooks only: the plugin manager lives in :mod:`parsl.plugins`. A plugin is a module or
object with functions decorated by ``parsl.hookimpl`` and named after a hook below; it is
found through the ``parsl`` entry-point group, or registered for one DataFlowKernel by
naming it in ``Config(observers=[...])`` / ``Config(monitoring=...)``.

Two kinds of hook: ``parsl_register_<kinds>()`` returns classes (no side effects), and
lifecycle hooks ``parsl_<subject>_<past participle>`` tell observers what a DataFlowKernel
did. Hooks only ever gain arguments, never lose or rename them; an implementation may
accept fewer arguments than the spec lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.states import States
    from parsl.dataflow.taskrecord import TaskRecord
    from parsl.executors.base import ParslExecutor
    from parsl.launchers.base import Launcher
    from parsl.plugins import TaskSubmission
    from parsl.providers.base import ExecutionProvider

hookspec = pluggy.HookspecMarker("parsl")

__all__ = [
    "hookspec",
    "parsl_default_staging",
    "parsl_dfk_started",
    "parsl_dfk_stopped",
    "parsl_executor_reported",
    "parsl_register_executors",
    "parsl_register_launchers",
    "parsl_register_providers",
    "parsl_register_staging_providers",
    "parsl_task_prepared",
    "parsl_task_state_changed",
]

# Specifications have no body (pluggy never calls them): hence the empty-body markers.

# ---------------------------------------------------------------------------
# Registration hooks: declare classes, no side effects.
# Called whenever a plugin manager's registry is read (``python -m parsl plugins``, and
# ``parsl.executors.<ClassName>``-style lookups of classes core does not know by name).
# Registries key each class on the PLUGIN_NAME its own body declares, else its __name__;
# two different classes under one key are an error naming both.
# ---------------------------------------------------------------------------


@hookspec
def parsl_register_executors() -> list[type[ParslExecutor]]:  # type: ignore[empty-body]
    """Return the executor classes this plugin provides.

    Each class subclasses :class:`parsl.executors.base.ParslExecutor` and should declare a
    ``PLUGIN_NAME`` class attribute (its registry key; the class name when absent).
    Registered classes are listed by ``python -m parsl plugins`` and importable as
    ``parsl.executors.<ClassName>``.

    :return: executor classes (not instances).
    """


@hookspec
def parsl_register_providers() -> list[type[ExecutionProvider]]:  # type: ignore[empty-body]
    """Return the execution provider classes this plugin provides.

    Each class subclasses :class:`parsl.providers.base.ExecutionProvider`. Registered
    classes are importable as ``parsl.providers.<ClassName>``.

    :return: provider classes (not instances).
    """


@hookspec
def parsl_register_launchers() -> list[type[Launcher]]:  # type: ignore[empty-body]
    """Return the launcher classes this plugin provides.

    Each class subclasses :class:`parsl.launchers.base.Launcher`. Registered classes are
    importable as ``parsl.launchers.<ClassName>``.

    :return: launcher classes (not instances).
    """


@hookspec
def parsl_register_staging_providers() -> list[type[Staging]]:  # type: ignore[empty-body]
    """Return the file staging provider classes this plugin provides.

    Each class subclasses :class:`parsl.data_provider.staging.Staging`; users list instances
    in an executor's ``storage_access``.

    :return: staging provider classes (not instances).
    """


@hookspec
def parsl_default_staging() -> list[Staging]:  # type: ignore[empty-body]
    """Return staging provider *instances* to add to ``default_staging``.

    Called when a DataFlowKernel starts (and once per process for
    ``parsl.data_provider.data_manager.default_staging``). ``default_staging`` is what an
    executor uses when its ``storage_access`` is None. The builtin plugin contributes
    local-file staging; the staging package adds HTTP and FTP.

    :return: staging provider instances, in the order they are tried.
    """


# ---------------------------------------------------------------------------
# Lifecycle hooks: called in the workflow process by each DataFlowKernel, on the
# plugin manager of that kernel only. An exception raised by an implementation is
# logged and the call goes on to the next implementation.
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
def parsl_task_prepared(dfk: DataFlowKernel, task: TaskRecord, submission: TaskSubmission) -> None:
    """Called when a try of a task has been prepared for its executor, just before it is submitted.

    The try's dependencies are resolved and no memoized result exists. An implementation may
    wrap what will run: set ``submission.func`` to a callable that calls the previous
    ``submission.func`` (each implementation sees the previous one's wrapper), and add private
    keys to ``submission.kwargs``, this try's own copy of the keyword arguments, which the
    wrapper must remove before calling on. Keep one wrapper object per function (not per
    task): executors serialize a function once and cache it by identity.

    A wrapper that reports from wherever the task runs declares the attribute
    ``parsl_monitoring_send = None`` (and leaves it out when pickled); an executor that can
    carry messages back sets it to a callable taking a list of dicts, which arrive in
    ``parsl_executor_reported`` (see ``ParslExecutor``'s "Telemetry" section).

    When no plugin implements this hook the DataFlowKernel does not call it at all. Not
    called for tasks of the kernel's internal executor.

    :param dfk: the DataFlowKernel that owns the task.
    :param task: the task's record (``task.id``, ``task.try_id``, ``task.executor``, ...).
    :param submission: ``submission.func`` and ``submission.kwargs``, yours to replace/extend.
    """


@hookspec
def parsl_executor_reported(dfk: DataFlowKernel, executor: str, messages: list[dict[str, Any]]) -> None:
    """Called when an executor reported telemetry: block status, worker pools, task messages.

    Executors call ``self.send_monitoring_messages([...])``; the DataFlowKernel routes the
    batch here, from the executor's own thread. It connects an executor (sets its
    ``monitoring_messages`` sink) when the executor is added, if a plugin implements this
    hook then. Each message is a dict with a ``"type"``:

    - ``"block"``: ``block_id``, ``job_id``, ``status`` (a JobState name), ``timestamp``;
    - ``"node"``: a worker pool registered, changed or left: ``uid``, ``hostname``,
      ``block_id``, ``cpu_count``, ``total_memory``, ``worker_count``, ``active``,
      ``python_v``, ``timestamp``, ``last_heartbeat``, ``event`` (``"registered"``,
      ``"held"``, ``"lost"``) and ``tasks`` (the ids of the tasks it holds). Executors may
      also send ``"dispatched"`` ones (it was given tasks); HighThroughputExecutor sends
      those only to a queue an engine set as ``monitoring_messages``, not to these plugins:
      one per batch of tasks costs as much CPU as the tasks themselves in a short-task
      workflow, and a task's try row already says which block and host ran it;
    - anything a ``parsl_task_prepared`` wrapper sent from inside the task (the monitoring
      package sends ``"task_running"``, ``"task_running_ended"`` and ``"resource"``).

    A batch may also hold ``bytes`` items: a task's running and running-ended messages packed
    into one (see ``parsl.monitoring.packed``: ``unpack_task_run`` reads one, ``expand`` turns
    a batch back into dicts). Executors pass them on as they are.

    Timestamps are seconds since the epoch. Unknown types must be ignored.

    :param dfk: the DataFlowKernel the executor belongs to.
    :param executor: the executor's label.
    :param messages: the batch, oldest first.
    """


@hookspec
def parsl_dfk_stopped(dfk: DataFlowKernel) -> None:
    """Called once at the end of ``DataFlowKernel.cleanup()``, after executors shut down.

    :param dfk: the DataFlowKernel that stopped.
    """
