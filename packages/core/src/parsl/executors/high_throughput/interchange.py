"""``python -m parsl.executors.high_throughput.interchange``: the HTEX interchange at Parsl's module path.

Software that launches the interchange itself (``interchange_launch_cmd``, e.g. through a
``python-exec``-style wrapper) names this module; run as a program it is exactly
``python -m parsl_executor_htex.interchange`` (configuration on stdin, see that module).
"""

from __future__ import annotations

from parsl._lazy import OptionalName, lazy_module_getattr, load_optional

_NAMES = {
    n: OptionalName("parsl_executor_htex.interchange", n, "htex", "parsl-executor-htex")
    for n in ("Interchange", "main")
}
# the errors Parsl's interchange module has in its namespace, which callers import from it
_NAMES.update(
    {
        n: OptionalName("parsl_executor_htex.errors", n, "htex", "parsl-executor-htex")
        for n in ("ManagerLost", "VersionMismatch")
    }
)

__getattr__ = lazy_module_getattr(__name__, _NAMES)

if __name__ == "__main__":
    load_optional("main", _NAMES["main"])()
