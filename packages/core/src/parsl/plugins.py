"""The Parsl plugin manager: builtins, entry-point plugins and per-DataFlowKernel observers.

``new_plugin_manager()`` builds a :class:`ParslPlugins` facade around a
:class:`ParslPluginManager`, which is pluggy's ``PluginManager`` with Parsl's hookspecs.
Builtin plugins (``DEFAULT_PLUGINS``) are always registered; plugins published under the
``parsl`` entry-point group are loaded once per process (blocked by
``PARSL_DISABLE_PLUGINS=1``, or selectively with ``PARSL_DISABLE_PLUGINS=name1,name2``);
observers named in a Config are registered only with that DataFlowKernel's manager.

Every hook is called through pluggy (``pm.hook.<name>(...)``), so hook wrappers
(``hookwrapper=True`` and ``wrapper=True``), ``tryfirst``/``trylast`` and pluggy's tracing
(``pm.add_hookcall_monitoring``, ``pm.enable_tracing``) work as pluggy documents. What the
manager adds: an observer implementation that raises is logged and the call goes on to the
next one; and the facade keeps flags (``observes_tasks``, ...) current on every
register/unregister, so the kernel's per-task path never enters pluggy when nothing listens.
When something listens with plain implementations only (no hook wrapper, no tracing), the
per-task hooks are called from a plan of exactly the calls pluggy would make (see
``_direct_plan``), which costs a third of a pluggy call; a wrapper or a monitor sends every
call through pluggy.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypedDict, cast

import pluggy

from parsl import hookspecs
from parsl.errors import ParslError

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.states import States
    from parsl.dataflow.taskrecord import TaskRecord
    from parsl.executors.base import ParslExecutor
    from parsl.launchers.base import Launcher
    from parsl.providers.base import ExecutionProvider

__all__ = [
    "DEFAULT_PLUGINS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "LAUNCH_IN_PREPARE",
    "LAUNCH_TOLD",
    "LIFECYCLE_HOOKS",
    "QUIET_START",
    "RENAMED_HOOKS",
    "ParslPluginManager",
    "ParslPlugins",
    "PluginConflictError",
    "PluginRow",
    "TaskSubmission",
    "default_plugin_manager",
    "entry_point_plugins",
    "hookimpl",
    "new_plugin_manager",
    "plugin_name_of",
    "reset_default_plugin_manager",
]

logger = logging.getLogger(__name__)

#: A plugin attribute: true when the plugin's ``parsl_task_prepared`` stands for the
#: ``launched`` state change of the tasks it prepares (the kernel calls it just before the
#: launch, with ``task.try_time_launched`` set). When such a plugin is the only one observing
#: task states, the kernel does not call its ``parsl_task_state_changed`` for those launches
#: (it still does for tasks it does not prepare: the internal executor's): one call fewer per
#: task on the hot path.
LAUNCH_IN_PREPARE = "PARSL_LAUNCH_IN_PREPARE"


class _LaunchTold:
    """The type of :data:`LAUNCH_TOLD`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "parsl.plugins.LAUNCH_TOLD"


#: What a plugin's ``parsl_task_state_changed`` may return for a task's first ``pending``
#: state when it has taken note of the launch that follows at once (a task without
#: dependencies: the kernel launches it in the same call). When that plugin is the only one
#: observing task states and the only one preparing tasks (``ParslPlugins.launch_told_ok``),
#: the kernel then calls neither its ``parsl_task_prepared`` nor its state hook for that
#: launch: two calls fewer for a task it neither wraps nor needs to hear of again until the
#: task returns. Any other return value (None) changes nothing.
LAUNCH_TOLD = _LaunchTold()

#: A plugin attribute: a set of executor labels, owned by the plugin, whose plain tasks it
#: learns of when they return rather than when they start. When that plugin could take a
#: :data:`LAUNCH_TOLD` (``ParslPlugins.launch_told_ok``), the kernel starts a task on one of
#: those executors that has no dependencies, no keyword arguments and no ``cache=True``
#: quietly: it calls no hook for its ``pending`` state or its first launch, and sets
#: ``task.untold``. The plugin's first call for the task is then its next state change (the
#: try returned, failed, or was cancelled), with ``old_state`` ``launched``: everything the
#: plugin would have been told is on the record (``time_invoked``, ``try_time_launched``).
#: The plugin clears ``task.untold`` once it has taken note of the task, at that call or
#: earlier from a thread of its own (it then serializes with its own lock; a task still
#: ``launched`` and ``untold`` is in ``dfk.tasks``). The kernel reads the set on every task:
#: fill it before the first task (in ``parsl_dfk_started``) and do not change it afterwards,
#: or a task may be started quietly while the plugin expects to hear of it. One hook call
#: fewer per task, for a plugin with nothing to add to such a task's launch.
QUIET_START = "PARSL_QUIET_START"

hookimpl = pluggy.HookimplMarker("parsl")

DEFAULT_PLUGINS: tuple[str, ...] = ("parsl.builtin_plugin",)
ENTRY_POINT_GROUP = "parsl"
DISABLE_ENV = "PARSL_DISABLE_PLUGINS"

#: hooks a DataFlowKernel calls while it runs; an implementation that raises is logged and skipped
LIFECYCLE_HOOKS: tuple[str, ...] = (
    "parsl_dfk_started",
    "parsl_task_state_changed",
    "parsl_task_prepared",
    "parsl_executor_reported",
    "parsl_dfk_stopped",
)

#: hooks renamed before their first release, and what an implementation must change
RENAMED_HOOKS: dict[str, str] = {
    "parsl_task_launching": (
        "parsl_task_prepared(dfk, task, submission): set submission.func to the wrapper "
        "(and add private keys to submission.kwargs) instead of returning it"
    ),
    "parsl_executor_messages": "parsl_executor_reported(dfk, executor, messages), same arguments",
}

#: registry name -> the hook that fills it (the ``kind`` accepted by ``ParslPlugins.find_class``)
REGISTRIES: dict[str, str] = {
    "executors": "parsl_register_executors",
    "providers": "parsl_register_providers",
    "launchers": "parsl_register_launchers",
    "staging_providers": "parsl_register_staging_providers",
}

_ep_lock = threading.Lock()
_ep_cache: list[tuple[str, str, object]] | None = None
_default: ParslPlugins | None = None


class PluginRow(TypedDict):
    """One plugin in ``python -m parsl plugins --json``."""

    name: str
    distribution: str
    #: registry (``executors``, ...) -> the class names it registers there
    provides: dict[str, list[str]]
    hooks: list[str]


class PluginConflictError(ParslError):
    """Two installed plugins register different classes under one name."""


class TaskSubmission:
    """One try of a task as it will be handed to its executor: ``func(*task.args, **kwargs)``.

    ``parsl_task_prepared`` implementations may replace ``func`` with a wrapper that calls the
    previous ``func``, and add private keys to ``kwargs`` (this try's own copy of the task's
    keyword arguments, made when first read), which their wrapper must remove before calling
    on.
    """

    __slots__ = ("_kwargs", "_source", "func")

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.func = func
        self._source = kwargs
        self._kwargs: dict[str, Any] | None = None

    @property
    def kwargs(self) -> dict[str, Any]:
        """This try's own keyword arguments: a copy of the task's, made when first read."""
        kwargs = self._kwargs
        if kwargs is None:
            kwargs = self._kwargs = dict(self._source)
        return kwargs

    @kwargs.setter
    def kwargs(self, value: dict[str, Any]) -> None:
        self._kwargs = value

    def __repr__(self) -> str:
        return f"TaskSubmission(func={self.func!r}, kwargs={sorted(self.kwargs)!r})"


def plugin_name_of(cls: type) -> str:
    """The registry key of a plugin class: the ``PLUGIN_NAME`` it declares itself, else its name.

    Only a ``PLUGIN_NAME`` set in the class's own body counts: a subclass of a registered
    class (say ``MyHTEX(HighThroughputExecutor)``) is keyed by its own ``__name__`` unless it
    declares a ``PLUGIN_NAME`` of its own, so it never collides with its parent.
    """
    declared = cls.__dict__.get("PLUGIN_NAME")
    return declared if isinstance(declared, str) and declared else cls.__name__


def _disabled_names() -> tuple[bool, set[str]]:
    raw = os.environ.get(DISABLE_ENV, "").strip()
    if not raw or raw.lower() in ("0", "false", "no"):
        return False, set()
    if raw.lower() in ("1", "true", "yes", "all", "*"):
        return True, set()
    return False, {n.strip() for n in raw.split(",") if n.strip()}


def entry_point_plugins() -> list[tuple[str, str, object]]:
    """Load (once per process) and return ``(name, distribution, plugin)`` for each entry point."""
    global _ep_cache
    with _ep_lock:
        if _ep_cache is None:
            loaded: list[tuple[str, str, object]] = []
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                dist = ep.dist.name if ep.dist is not None else "?"
                try:
                    plugin = ep.load()
                except Exception:
                    logger.exception("Could not load Parsl plugin %r from %s", ep.name, dist)
                    continue
                loaded.append((ep.name, dist, plugin))
            _ep_cache = loaded
        return list(_ep_cache)


def _isolated(function: Callable[..., object], hook_name: str, plugin_name: str) -> Callable[..., object]:
    """``function``, logging and swallowing what it raises (an observer never breaks a workflow)."""

    @functools.wraps(function)
    def isolated(*args: object, **kwargs: object) -> object:
        try:
            return function(*args, **kwargs)
        except Exception:
            logger.exception("Parsl plugin %s raised in %s; ignoring", plugin_name, hook_name)
            return None

    isolated._parsl_isolated = (function, plugin_name)  # type: ignore[attr-defined]  # read by _direct_plan
    return isolated


#: a per-task hook's implementations as plain calls: (function, the argument names it takes,
#: or None when it takes all of the hookspec's in their order, plugin name)
DirectPlan = tuple[tuple[Callable[..., object], tuple[str, ...] | None, str], ...]


def _direct_plan(caller: pluggy.HookCaller, monitored: bool) -> DirectPlan | None:
    """The calls pluggy would make for ``caller``, when it would make nothing else.

    With no hook wrapper among the implementations and no hook-call monitoring (tracing) on
    the manager, pluggy's call is: each implementation, last registered first, with the
    arguments it names. The kernel's per-task path makes exactly those calls from this plan
    and skips pluggy's per-call argument checks and result collection; any wrapper or monitor
    makes the plan ``None`` and every call goes through pluggy.
    """
    if monitored:
        return None
    plan: list[tuple[Callable[..., object], tuple[str, ...] | None, str]] = []
    every = tuple(caller.spec.argnames) if caller.spec is not None else None
    for impl in reversed(caller.get_hookimpls()):
        if impl.wrapper or impl.hookwrapper:
            return None
        function, plugin_name = getattr(impl.function, "_parsl_isolated", (impl.function, impl.plugin_name))
        argnames = tuple(impl.argnames)
        plan.append((function, None if argnames == every else argnames, plugin_name))
    return tuple(plan)


def _lone(plan: DirectPlan | None) -> tuple[Callable[..., object], str] | None:
    """``(function, plugin name)`` of a plan's only implementation, when it takes every
    argument in the hookspec's order (the caller may then call it straight); else None."""
    if plan is not None and len(plan) == 1 and plan[0][1] is None:
        return plan[0][0], plan[0][2]
    return None


def _log_hook_error(hook_name: str, plugin: str | None, error: Exception) -> None:
    """Log what a call of a facade's ``*_hook`` raised: ``plugin``'s error, or (None) a wrapper's."""
    if plugin is None:  # the facade's own call catches what implementations raise itself
        logger.error("A Parsl plugin raised around %s; ignoring", hook_name, exc_info=error)
    else:
        logger.error("Parsl plugin %s raised in %s; ignoring", plugin, hook_name, exc_info=error)


class ParslPluginManager(pluggy.PluginManager):
    """pluggy's ``PluginManager`` for project ``"parsl"``, with Parsl's hookspecs added.

    Use it as any pluggy manager (``register``, ``unregister``, ``hook``, tracing). It adds:

    - each non-wrapper implementation of a lifecycle hook (``LIFECYCLE_HOOKS``) runs isolated:
      an exception is logged and pluggy goes on to the next implementation;
    - ``add_change_listener(callback)``: ``callback()`` runs after every register/unregister;
    - an implementation of a hook in ``RENAMED_HOOKS`` is refused with the new name.
    """

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)
        self._listeners: list[Callable[[], None]] = []
        #: how many hook-call monitors (``add_hookcall_monitoring``, ``enable_tracing``) are on
        self.monitors = 0

    def add_change_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each plugin (un)registration on this manager."""
        self._listeners.append(callback)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self._refuse_renamed_hooks(plugin)
        plugin_name = super().register(plugin, name)
        if plugin_name is not None:
            for caller in self.get_hookcallers(plugin) or ():
                if caller.name not in LIFECYCLE_HOOKS:
                    continue
                for impl in reversed(caller.get_hookimpls()):
                    if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                        # pluggy reads HookImpl.function at each call; wrappers stay as they
                        # are so they still see the result
                        setattr(impl, "function", _isolated(impl.function, caller.name, plugin_name))  # noqa: B010
            self._changed()
        return plugin_name

    def unregister(self, plugin: object | None = None, name: str | None = None) -> object | None:
        removed = super().unregister(plugin, name)
        self._changed()
        return removed

    def add_hookcall_monitoring(
        self,
        before: Callable[[str, Sequence[pluggy.HookImpl], Mapping[str, Any]], None],
        after: Callable[[pluggy.Result[Any], str, Sequence[pluggy.HookImpl], Mapping[str, Any]], None],
    ) -> Callable[[], None]:
        """pluggy's, and the change listeners hear of it (and of its undo): they see every call."""
        undo = super().add_hookcall_monitoring(before, after)
        self.monitors += 1
        self._changed()

        def undo_and_tell() -> None:
            undo()
            self.monitors -= 1
            self._changed()

        return undo_and_tell

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()

    def _refuse_renamed_hooks(self, plugin: object) -> None:
        for old, new in RENAMED_HOOKS.items():
            if self.parse_hookimpl_opts(plugin, old) is not None:
                raise pluggy.PluginValidationError(
                    plugin,
                    f"Parsl plugin {plugin!r} implements {old}, which was renamed before its first "
                    f"release: implement {new}",
                )


class ParslPlugins:
    """Typed facade over one :class:`ParslPluginManager`: registries and lifecycle calls.

    ``observes_tasks``, ``prepares_tasks`` and ``receives_executor_reports`` say whether any
    implementation of the per-task hooks is registered; they are plain attributes, kept
    current on every register/unregister (also through ``pm`` directly), for the kernel's
    hot path to read instead of calling into pluggy for nothing. So is ``state_hook``: None
    when nothing observes task states, else what to call as ``state_hook(dfk, task, old,
    new)`` (the only implementation itself when pluggy would call nothing else; the caller
    then reports what it raises to :meth:`state_hook_failed`). ``prepare_hook`` is the same
    for ``parsl_task_prepared``: None, or what to call as ``prepare_hook(dfk, task,
    submission)``, with :meth:`prepare_hook_failed` for what it raises. ``launch_hook`` is
    what to call for the ``launched`` state of a task that went through ``prepare_hook``:
    ``state_hook``, or None when the only observer of task states says (with a true
    ``PARSL_LAUNCH_IN_PREPARE`` attribute, see :data:`LAUNCH_IN_PREPARE`) that its
    ``parsl_task_prepared`` already tells it of that launch. ``launch_told_ok`` is true when
    ``state_hook`` is the only observer's own function and no other plugin prepares tasks:
    the kernel then honours a :data:`LAUNCH_TOLD` it returns. ``quiet_start`` is then that
    observer's :data:`QUIET_START` set, if it has one; otherwise None.
    """

    def __init__(self, pm: ParslPluginManager) -> None:
        self.pm = pm
        self.hook = pm.hook
        self.observes_tasks = False
        self.prepares_tasks = False
        self.receives_executor_reports = False
        self.state_hook: Callable[[DataFlowKernel, TaskRecord, States, States], object] | None = None
        self._state_hook_plugin: str | None = None
        self.prepare_hook: Callable[[DataFlowKernel, TaskRecord, TaskSubmission], object] | None = None
        self._prepare_hook_plugin: str | None = None
        self.launch_hook: Callable[[DataFlowKernel, TaskRecord, States, States], object] | None = None
        self.launch_told_ok = False
        self.quiet_start: Container[str] | None = None
        pm.add_change_listener(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        hook = self.hook
        self.observes_tasks = bool(hook.parsl_task_state_changed.get_hookimpls())
        self.prepares_tasks = bool(hook.parsl_task_prepared.get_hookimpls())
        monitored = self.pm.monitors > 0
        self._state_plan = _direct_plan(hook.parsl_task_state_changed, monitored)
        self._prepare_plan = _direct_plan(hook.parsl_task_prepared, monitored)
        self._report_plan = _direct_plan(hook.parsl_executor_reported, monitored)
        # The one implementation, when it is the only call pluggy would make (the usual case:
        # a MonitoringHub): the kernel calls it straight, one call fewer per task event.
        state_lone = _lone(self._state_plan)
        self.state_hook, self._state_hook_plugin = state_lone or (
            self.task_state_changed if self.observes_tasks else None,
            None,
        )
        lone = _lone(self._prepare_plan)
        self.prepare_hook, self._prepare_hook_plugin = lone or (
            self._prepare if self.prepares_tasks else None,
            None,
        )
        self.receives_executor_reports = bool(hook.parsl_executor_reported.get_hookimpls())
        self.launch_hook = self.state_hook
        self.launch_told_ok = False
        self.quiet_start = None
        if self.state_hook is not None:
            observers = hook.parsl_task_state_changed.get_hookimpls()
            preparers = {id(impl.plugin) for impl in hook.parsl_task_prepared.get_hookimpls()}
            # the state hook is the one implementation, called straight (its return value
            # reaches the kernel), and no other plugin prepares tasks
            self.launch_told_ok = state_lone is not None and preparers <= {id(observers[0].plugin)}
            if self.launch_told_ok:
                self.quiet_start = getattr(observers[0].plugin, QUIET_START, None)
            if (
                len(observers) == 1
                and id(observers[0].plugin) in preparers
                and getattr(observers[0].plugin, LAUNCH_IN_PREPARE, False) is True
            ):
                self.launch_hook = None

    # -- registration ------------------------------------------------------
    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` and check that every ``parsl_*`` function it has is a known hook."""
        result = self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            self.pm.unregister(plugin)
            raise
        return result

    def unregister(self, plugin: object) -> None:
        self.pm.unregister(plugin)

    # -- registries --------------------------------------------------------
    def executors(self) -> dict[str, type[ParslExecutor]]:
        """Executor classes by :func:`plugin_name_of` (``PLUGIN_NAME``, else the class name)."""
        from parsl.executors.base import ParslExecutor

        table = self._registry(self.hook.parsl_register_executors, ParslExecutor, "executor")
        return cast("dict[str, type[ParslExecutor]]", table)

    def providers(self) -> dict[str, type[ExecutionProvider]]:
        """Execution provider classes by :func:`plugin_name_of`."""
        from parsl.providers.base import ExecutionProvider

        table = self._registry(self.hook.parsl_register_providers, ExecutionProvider, "provider")
        return cast("dict[str, type[ExecutionProvider]]", table)

    def launchers(self) -> dict[str, type[Launcher]]:
        """Launcher classes by :func:`plugin_name_of`."""
        from parsl.launchers.base import Launcher

        table = self._registry(self.hook.parsl_register_launchers, Launcher, "launcher")
        return cast("dict[str, type[Launcher]]", table)

    def staging_providers(self) -> dict[str, type[Staging]]:
        """File staging provider classes by :func:`plugin_name_of`."""
        from parsl.data_provider.staging import Staging

        table = self._registry(self.hook.parsl_register_staging_providers, Staging, "staging provider")
        return cast("dict[str, type[Staging]]", table)

    def find_class(self, kind: str, class_name: str) -> type | None:
        """The class named ``class_name`` in registry ``kind`` (a key of ``REGISTRIES``), or None.

        This is how ``parsl.executors.<ClassName>`` (and providers, launchers) resolve a class
        of an installed plugin.
        """
        if kind not in REGISTRIES:
            raise ValueError(f"unknown plugin registry {kind!r}; use one of {sorted(REGISTRIES)}")
        table: dict[str, type] = getattr(self, kind)()
        found = [cls for cls in table.values() if cls.__name__ == class_name]
        if len(found) > 1:
            a, b = found[:2]
            raise PluginConflictError(
                f"two installed plugins register a class named {class_name}: "
                f"{a.__module__}.{a.__qualname__} and {b.__module__}.{b.__qualname__}; import it "
                f"from its own package instead (e.g. `from {a.__module__} import {class_name}`)"
            )
        return found[0] if found else None

    def _registry(self, caller: pluggy.HookCaller, base: type, what: str) -> dict[str, type]:
        """Every class the hook returns, keyed on :func:`plugin_name_of`, each checked against ``base``."""
        table: dict[str, type] = {}
        # pluggy returns the last registered plugin's list first; tables keep registration order
        for found in reversed(caller()):
            for cls in found or ():
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginConflictError(
                        f"{caller.name} returned {cls!r}, which is not a subclass of "
                        f"{base.__module__}.{base.__qualname__}: return {what} classes only"
                    )
                key = plugin_name_of(cls)
                other = table.setdefault(key, cls)
                if other is not cls:
                    raise PluginConflictError(
                        f"two installed plugins register a {what} named {key!r}: "
                        f"{other.__module__}.{other.__qualname__} and {cls.__module__}.{cls.__qualname__}. "
                        f"Give one of them a different PLUGIN_NAME class attribute, or stop loading "
                        f"one plugin with {DISABLE_ENV}=<entry point name> (see `python -m parsl plugins`)"
                    )
        return table

    def default_staging(self) -> list[Staging]:
        """Staging provider instances every executor without ``storage_access`` uses."""
        out: list[Staging] = []
        for found in reversed(self.hook.parsl_default_staging()):
            out.extend(found or ())
        return out

    # -- lifecycle hooks ---------------------------------------------------
    def _call(self, caller: pluggy.HookCaller, **kwargs: object) -> None:
        try:
            caller(**kwargs)
        except Exception:  # a hook wrapper raised; plain implementations are isolated already
            logger.exception("A Parsl plugin raised around %s; ignoring", caller.name)

    def _call_plan(self, caller: pluggy.HookCaller, plan: DirectPlan | None, kwargs: dict[str, Any]) -> None:
        """Call ``caller(**kwargs)`` (``kwargs`` in the hookspec's order): straight from ``plan``
        when pluggy would make only its calls, each implementation's errors logged; else
        through pluggy."""
        if plan is None:
            self._call(caller, **kwargs)
            return
        args = tuple(kwargs.values())
        for function, argnames, plugin_name in plan:
            try:
                if argnames is None:
                    function(*args)
                else:
                    function(*[kwargs[a] for a in argnames])
            except Exception:
                logger.exception("Parsl plugin %s raised in %s; ignoring", plugin_name, caller.name)

    def dfk_started(self, dfk: DataFlowKernel) -> None:
        self._call(self.hook.parsl_dfk_started, dfk=dfk)

    def task_state_changed(
        self, dfk: DataFlowKernel, task: TaskRecord, old_state: States, new_state: States
    ) -> None:
        """Call ``parsl_task_state_changed``; the kernel calls this only when ``observes_tasks``."""
        self._call_plan(
            self.hook.parsl_task_state_changed,
            self._state_plan,
            {"dfk": dfk, "task": task, "old_state": old_state, "new_state": new_state},
        )

    def state_hook_failed(self, error: Exception) -> None:
        """Log ``error``, raised by a call of ``state_hook``."""
        _log_hook_error("parsl_task_state_changed", self._state_hook_plugin, error)

    def task_prepared(
        self, dfk: DataFlowKernel, task: TaskRecord, func: Callable[..., Any], kwargs: dict[str, Any]
    ) -> Callable[..., Any]:
        """Call ``parsl_task_prepared`` and return the function to submit in place of ``func``.

        ``kwargs`` is the try's own copy; implementations may add keys to it. (The kernel
        calls :attr:`prepare_hook` itself, when there is one.)
        """
        submission = TaskSubmission(func, kwargs)
        submission.kwargs = kwargs  # already the try's own: no copy
        hook = self.prepare_hook
        if hook is not None:
            try:
                hook(dfk, task, submission)
            except Exception as e:
                self.prepare_hook_failed(e)
        return submission.func

    def prepare_hook_failed(self, error: Exception) -> None:
        """Log ``error``, raised by a call of ``prepare_hook``."""
        _log_hook_error("parsl_task_prepared", self._prepare_hook_plugin, error)

    def _prepare(self, dfk: DataFlowKernel, task: TaskRecord, submission: TaskSubmission) -> None:
        """Every ``parsl_task_prepared`` implementation in turn, each one's errors logged."""
        self._call_plan(
            self.hook.parsl_task_prepared,
            self._prepare_plan,
            {"dfk": dfk, "task": task, "submission": submission},
        )

    def executor_reported(self, dfk: DataFlowKernel, executor: str, messages: list[dict[str, Any]]) -> None:
        """Call ``parsl_executor_reported`` (an executor's telemetry sink is bound to this: HTEX
        calls it for every batch of results that carries tasks' messages)."""
        self._call_plan(
            self.hook.parsl_executor_reported,
            self._report_plan,
            {"dfk": dfk, "executor": executor, "messages": messages},
        )

    def dfk_stopped(self, dfk: DataFlowKernel) -> None:
        self._call(self.hook.parsl_dfk_stopped, dfk=dfk)

    # -- introspection -----------------------------------------------------
    def describe(self) -> list[PluginRow]:
        """One entry per registered plugin: its name, distribution, classes and hooks."""
        rows: list[PluginRow] = []
        dists = {id(p): d for _, d, p in entry_point_plugins()}
        for name, plugin in self.pm.list_name_plugin():
            callers = self.pm.get_hookcallers(plugin) or []
            provides: dict[str, list[str]] = {}
            for kind, hook_name in REGISTRIES.items():
                for caller in callers:
                    if caller.name == hook_name:
                        classes = _classes_of(caller.get_hookimpls(), plugin)
                        provides[kind] = [c.__name__ for c in classes]
            default = "parslcore (builtin)" if name in DEFAULT_PLUGINS else "?"
            rows.append(
                {
                    "name": name,
                    "distribution": dists.get(id(plugin), default),
                    "provides": provides,
                    "hooks": sorted(c.name for c in callers),
                }
            )
        return rows


def _classes_of(impls: Iterable[pluggy.HookImpl], plugin: object) -> list[type]:
    """What ``plugin``'s own implementation of a registration hook returns (for listings)."""
    out: list[type] = []
    for impl in impls:
        if impl.plugin is plugin:
            result = impl.function()
            if isinstance(result, (list, tuple)):
                out.extend(c for c in result if isinstance(c, type))
    return out


def new_plugin_manager(observers: Sequence[object] = ()) -> ParslPlugins:
    """Build a manager with builtins, entry-point plugins (unless disabled) and ``observers``."""
    pm = ParslPluginManager()
    for modname in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(modname), name=modname)
    all_off, blocked = _disabled_names()
    if not all_off:
        for name, _dist, plugin in entry_point_plugins():
            if name in blocked or pm.is_registered(plugin):
                continue
            pm.register(plugin, name=name)
    for obs in observers:
        if obs is not None and not pm.is_registered(obs):
            pm.register(obs)
    pm.check_pending()
    return ParslPlugins(pm)


def default_plugin_manager() -> ParslPlugins:
    """The process-wide manager without observers, used for listings and name lookups."""
    global _default
    if _default is None:
        _default = new_plugin_manager()
    return _default


def reset_default_plugin_manager() -> None:
    """Forget the cached entry points and default manager (tests that install plugins use this)."""
    global _default, _ep_cache
    with _ep_lock:
        _ep_cache = None
    _default = None
