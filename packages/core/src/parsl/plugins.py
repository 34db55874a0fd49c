"""The Parsl plugin manager: builtins, entry-point plugins and per-DataFlowKernel observers.

``new_plugin_manager()`` builds a :class:`ParslPlugins` facade around a pluggy
``PluginManager``. Builtin plugins (``DEFAULT_PLUGINS``) are always registered; plugins
published under the ``parsl`` entry-point group are loaded once per process (blocked by
``PARSL_DISABLE_PLUGINS=1``, or selectively with ``PARSL_DISABLE_PLUGINS=name1,name2``);
observers named in a Config are registered only with that DataFlowKernel's manager.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from parsl import hookspecs

if TYPE_CHECKING:
    from parsl.data_provider.staging import Staging

__all__ = [
    "DEFAULT_PLUGINS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "ParslPlugins",
    "default_plugin_manager",
    "entry_point_plugins",
    "hookimpl",
    "new_plugin_manager",
]

logger = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("parsl")

DEFAULT_PLUGINS: tuple[str, ...] = ("parsl.builtin_plugin",)
ENTRY_POINT_GROUP = "parsl"
DISABLE_ENV = "PARSL_DISABLE_PLUGINS"

_ep_lock = threading.Lock()
_ep_cache: list[tuple[str, str, Any]] | None = None
_default: ParslPlugins | None = None


def _disabled_names() -> tuple[bool, set[str]]:
    raw = os.environ.get(DISABLE_ENV, "").strip()
    if not raw or raw.lower() in ("0", "false", "no"):
        return False, set()
    if raw.lower() in ("1", "true", "yes", "all", "*"):
        return True, set()
    return False, {n.strip() for n in raw.split(",") if n.strip()}


def entry_point_plugins() -> list[tuple[str, str, Any]]:
    """Load (once per process) and return ``(name, distribution, plugin)`` for each entry point."""
    global _ep_cache
    with _ep_lock:
        if _ep_cache is None:
            loaded = []
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


class ParslPlugins:
    """Typed facade over one pluggy ``PluginManager``."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.hook = pm.hook
        self._lifecycle: dict[str, list[tuple[Callable[..., Any], tuple[str, ...], str]]] = {}
        self.refresh()

    def refresh(self) -> None:
        """Recompute the per-hook call lists after plugins were (un)registered."""
        for name in (
            "parsl_dfk_started",
            "parsl_task_state_changed",
            "parsl_dfk_stopped",
            "parsl_task_launching",
            "parsl_executor_messages",
        ):
            caller = getattr(self.hook, name)
            impls = []
            for impl in reversed(caller.get_hookimpls()):
                impls.append((impl.function, tuple(impl.argnames), impl.plugin_name))
            self._lifecycle[name] = impls

    # -- registration ------------------------------------------------------
    def register(self, plugin: Any, name: str | None = None) -> str | None:
        result = self.pm.register(plugin, name=name)
        self.pm.check_pending()
        self.refresh()
        return result

    def unregister(self, plugin: Any) -> None:
        self.pm.unregister(plugin)
        self.refresh()

    # -- registration hooks (typed) ---------------------------------------
    @staticmethod
    def _flatten(results: Iterable[Sequence[Any] | None]) -> list[Any]:
        out: list[Any] = []
        for r in results:
            if r:
                out.extend(r)
        return out

    def _classes(self, results: Iterable[Sequence[Any] | None]) -> dict[str, type]:
        table: dict[str, type] = {}
        for cls in self._flatten(results):
            table.setdefault(cls.__name__, cls)
        return table

    def executors(self) -> dict[str, type]:
        return self._classes(self.hook.parsl_register_executors())

    def providers(self) -> dict[str, type]:
        return self._classes(self.hook.parsl_register_providers())

    def launchers(self) -> dict[str, type]:
        return self._classes(self.hook.parsl_register_launchers())

    def staging_providers(self) -> dict[str, type]:
        return self._classes(self.hook.parsl_register_staging_providers())

    def serializers(self) -> list[type]:
        found = self._flatten(self.hook.parsl_register_serializers())
        return sorted(found, key=lambda c: -getattr(c, "priority", 0))

    def default_staging(self) -> list[Staging]:
        return self._flatten(reversed(self.hook.parsl_default_staging()))

    # -- lifecycle hooks ---------------------------------------------------
    def _call_each(self, hook_name: str, kwargs: dict[str, Any]) -> None:
        for func, argnames, plugin_name in self._lifecycle[hook_name]:
            try:
                func(*[kwargs[a] for a in argnames])
            except Exception:
                logger.exception("Parsl plugin %s raised in %s; ignoring", plugin_name, hook_name)

    @property
    def observes_tasks(self) -> bool:
        """Whether any plugin implements ``parsl_task_state_changed``."""
        return bool(self._lifecycle["parsl_task_state_changed"])

    def dfk_started(self, dfk: Any) -> None:
        self._call_each("parsl_dfk_started", {"dfk": dfk})

    def task_state_changed(self, dfk: Any, task: Any, old_state: Any, new_state: Any) -> None:
        for func, argnames, plugin_name in self._lifecycle["parsl_task_state_changed"]:
            try:
                if len(argnames) == 4:
                    func(dfk, task, old_state, new_state)
                else:
                    kw = {"dfk": dfk, "task": task, "old_state": old_state, "new_state": new_state}
                    func(*[kw[a] for a in argnames])
            except Exception:
                logger.exception("Parsl plugin %s raised in parsl_task_state_changed; ignoring", plugin_name)

    def dfk_stopped(self, dfk: Any) -> None:
        self._call_each("parsl_dfk_stopped", {"dfk": dfk})

    @property
    def wraps_tasks(self) -> bool:
        """Whether any plugin implements ``parsl_task_launching``."""
        return bool(self._lifecycle["parsl_task_launching"])

    def task_launching(self, dfk: Any, task: Any, func: Any, kwargs: dict[str, Any]) -> Any:
        """Pass ``func`` through every ``parsl_task_launching`` implementation in turn."""
        for impl, argnames, plugin_name in self._lifecycle["parsl_task_launching"]:
            values = {"dfk": dfk, "task": task, "func": func, "kwargs": kwargs}
            try:
                new = impl(*[values[a] for a in argnames])
            except Exception:
                logger.exception("Parsl plugin %s raised in parsl_task_launching; ignoring", plugin_name)
                continue
            if new is not None:
                func = new
        return func

    @property
    def receives_executor_messages(self) -> bool:
        """Whether any plugin implements ``parsl_executor_messages``."""
        return bool(self._lifecycle["parsl_executor_messages"])

    def executor_messages(self, dfk: Any, executor: str, messages: list[dict[str, Any]]) -> None:
        self._call_each("parsl_executor_messages", {"dfk": dfk, "executor": executor, "messages": messages})

    # -- introspection -----------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        """One entry per registered plugin: its name, distribution and what it provides."""
        rows = []
        dists = {id(p): d for _, d, p in entry_point_plugins()}
        for name, plugin in self.pm.list_name_plugin():
            provides: dict[str, list[str]] = {}
            for impl_name in (
                "parsl_register_executors",
                "parsl_register_providers",
                "parsl_register_launchers",
                "parsl_register_staging_providers",
                "parsl_register_serializers",
            ):
                fn = getattr(plugin, impl_name, None)
                if fn is not None:
                    kind = impl_name.removeprefix("parsl_register_")
                    provides[kind] = [c.__name__ for c in (fn() or [])]
            hooks = sorted(h.name for h in (self.pm.get_hookcallers(plugin) or []))
            rows.append(
                {
                    "name": name,
                    "distribution": dists.get(
                        id(plugin), "parslcore (builtin)" if name in DEFAULT_PLUGINS else "?"
                    ),
                    "provides": provides,
                    "hooks": hooks,
                }
            )
        return rows


def new_plugin_manager(observers: Sequence[Any] = ()) -> ParslPlugins:
    """Build a manager with builtins, entry-point plugins (unless disabled) and ``observers``."""
    pm = pluggy.PluginManager("parsl")
    pm.add_hookspecs(hookspecs)
    for modname in DEFAULT_PLUGINS:
        module: ModuleType = importlib.import_module(modname)
        pm.register(module, name=modname)
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
