"""``python -m parsl.executors.high_throughput.process_worker_pool``: the HTEX worker pool at Parsl's
module path.

Launch commands that name this module (``launch_cmd``, e.g. through a ``python-exec``-style
wrapper) run exactly ``process_worker_pool.py`` / ``python -m parsl_executor_htex.process_worker_pool``,
with the same options.
"""

from __future__ import annotations

from parsl._lazy import OptionalName, lazy_module_getattr, load_optional

_NAMES = {
    n: OptionalName("parsl_executor_htex.process_worker_pool", n, "htex", "parsl-executor-htex")
    for n in ("Manager", "main", "make_parser")
}

__getattr__ = lazy_module_getattr(__name__, _NAMES)

if __name__ == "__main__":
    load_optional("main", _NAMES["main"])()
