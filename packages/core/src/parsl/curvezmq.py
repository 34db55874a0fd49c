"""``parsl.curvezmq``: CurveZMQ-encrypted ZeroMQ contexts, as Parsl offers them.

``create_certificates``, ``ServerContext``, ``ClientContext`` and ``BaseContext`` live in
``parsl_executor_htex.curvezmq`` (they need pyzmq, which only the HighThroughputExecutor
package installs). Importing this module puts that module in its place, so
``parsl.curvezmq`` *is* it: patching ``parsl.curvezmq._load_certificate`` (as Parsl's own
tests do) reaches the contexts. Without the package, the import fails with the
``pip install`` line to run.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from parsl._lazy import htex, missing_extra_error

if TYPE_CHECKING:  # this module becomes parsl_executor_htex.curvezmq at import
    from parsl_executor_htex.curvezmq import BaseContext, ClientContext, ServerContext, create_certificates

__all__ = ["BaseContext", "ClientContext", "ServerContext", "create_certificates"]

try:
    _impl = importlib.import_module("parsl_executor_htex.curvezmq")
except ModuleNotFoundError as e:
    if e.name not in ("parsl_executor_htex", "parsl_executor_htex.curvezmq"):
        raise
    raise missing_extra_error("parsl.curvezmq", htex("curvezmq"), e) from e

sys.modules[__name__] = _impl
