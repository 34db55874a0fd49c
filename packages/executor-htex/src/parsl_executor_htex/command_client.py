"""``executor.command_client``: Parsl's command channel to the interchange, spoken over ours.

Software written for Parsl queries the interchange with ``command_client.run(command)``;
this client understands the commands Parsl's interchange answers and maps them onto our
command socket (one at a time, from any number of threads):

- ``"CONNECTED_BLOCKS"``: every block a worker pool ever connected from (a list of ids)
- ``"MANAGERS"``: one dict per connected worker pool (``connected_managers()``)
- ``"MANAGERS_PACKAGES"``: ``{manager id: {distribution: version}}``
- ``"WORKER_BINDS"``: the port worker pools connect to
- ``["HOLD_MANAGER", manager_id]``: send that pool no more tasks (answers ``None``)

Anything else is logged and answered with ``None``, as Parsl's interchange does. A command
that gets no answer within ``timeout_s`` raises ``CommandClientTimeoutError``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsl_executor_htex.executor import HighThroughputExecutor

__all__ = ["CommandClient"]

logger = logging.getLogger(__name__)

#: Parsl's command names -> ours (sent as they are, without arguments)
_PLAIN = {
    "CONNECTED_BLOCKS": "connected_blocks",
    "MANAGERS": "connected_managers",
    "MANAGERS_PACKAGES": "connected_managers_packages",
    "WORKER_BINDS": "worker_port",
}
#: how long a command waits for its answer when the caller gives no timeout
DEFAULT_TIMEOUT_S = 60.0


class CommandClient:
    """Send Parsl-style commands to one executor's interchange."""

    def __init__(self, executor: HighThroughputExecutor) -> None:
        self._executor = executor

    def run(self, message: Any, timeout_s: float | None = None) -> Any:
        """Answer ``message`` (a command name, or ``[name, argument]``) from the interchange."""
        timeout = DEFAULT_TIMEOUT_S if timeout_s is None else float(timeout_s)
        call = self._executor._command_call
        if isinstance(message, str) and message in _PLAIN:
            return call(_PLAIN[message], timeout=timeout)
        if isinstance(message, (list, tuple)) and len(message) == 2 and message[0] == "HOLD_MANAGER":
            call("hold_worker", str(message[1]), timeout=timeout)
            return None
        logger.error("Unknown interchange command %r: answered None", message)
        return None

    def close(self) -> None:
        """Nothing to release: the executor owns the socket and closes it at shutdown."""
