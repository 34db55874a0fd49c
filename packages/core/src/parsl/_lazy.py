"""Lazy re-export of names that live in optional sibling packages.

Core modules such as ``parsl.executors`` declare which names come from which
plugin distribution; the first attribute access imports it, and a missing
package raises ImportError carrying the exact ``pip install`` line to run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["OptionalName", "lazy_module_getattr", "missing_extra_error"]


class OptionalName:
    """Where an optional name lives: import package, attribute and the extra that installs it."""

    __slots__ = ("attr", "distribution", "extra", "module")

    def __init__(self, module: str, attr: str, extra: str, distribution: str):
        self.module = module
        self.attr = attr
        self.extra = extra
        self.distribution = distribution


def missing_extra_error(name: str, where: OptionalName, cause: BaseException | None = None) -> ImportError:
    """Build the ImportError raised when an optional plugin package is not installed."""
    msg = (
        f"{name} is provided by the optional package {where.distribution!r}, which is not installed. "
        f"Install it with: pip install 'parslcore[{where.extra}]'"
    )
    err = ImportError(msg, name=where.module)
    if cause is not None:
        err.__cause__ = cause
    return err


def load_optional(name: str, where: OptionalName) -> Any:
    """Import ``where.module`` and return ``where.attr`` or raise the install-hint ImportError."""
    try:
        module = importlib.import_module(where.module)
    except ModuleNotFoundError as e:
        top = where.module.split(".")[0]
        if e.name is not None and (
            e.name == top or where.module.startswith(e.name + ".") or e.name.startswith(top)
        ):
            raise missing_extra_error(name, where, e) from e
        raise
    return getattr(module, where.attr)


def lazy_module_getattr(
    module_name: str, table: dict[str, OptionalName], plugin_kind: str | None = None
) -> Callable[[str], Any]:
    """Return a module-level ``__getattr__`` resolving names in ``table`` on first use.

    With ``plugin_kind`` (``"providers"``, ``"launchers"``, ...) a name that is not in the
    table is looked up among the classes installed plugins register for that kind, so a
    third-party ``MyProvider`` is importable as ``parsl.providers.MyProvider``.
    """
    import sys

    def __getattr__(name: str) -> Any:
        where = table.get(name)
        if where is None:
            value = None
            if plugin_kind is not None and not name.startswith("_"):
                from parsl.plugins import default_plugin_manager

                value = default_plugin_manager().find_class(plugin_kind, name)
            if value is None:
                raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
            setattr(sys.modules[module_name], name, value)
            return value
        value = load_optional(name, where)
        setattr(sys.modules[module_name], name, value)
        return value

    return __getattr__


def htex(attr: str) -> OptionalName:
    return OptionalName("parsl_executor_htex", attr, "htex", "parsl-executor-htex")


def providers(attr: str, extra: str = "providers") -> OptionalName:
    return OptionalName("parsl_providers", attr, extra, "parsl-providers")


def monitoring(attr: str) -> OptionalName:
    return OptionalName("parsl_monitoring", attr, "monitoring", "parsl-monitoring")


def staging(attr: str, extra: str = "staging") -> OptionalName:
    return OptionalName("parsl_staging", attr, extra, "parsl-staging")
