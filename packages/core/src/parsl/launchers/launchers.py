"""Launchers that need nothing but bash: ``SimpleLauncher`` and ``SingleNodeLauncher``.

Scheduler-specific launchers (srun, aprun, mpiexec, ...) live in the optional
``parsl-providers`` package; they are importable from here too, lazily.
"""

from __future__ import annotations

import logging

from parsl._lazy import OptionalName, lazy_module_getattr, providers
from parsl.launchers.base import Launcher

logger = logging.getLogger(__name__)

__all__ = ["SimpleLauncher", "SingleNodeLauncher"]

OPTIONAL_LAUNCHERS: dict[str, OptionalName] = {
    name: providers(name)
    for name in (
        "SrunLauncher",
        "SrunMPILauncher",
        "AprunLauncher",
        "JsrunLauncher",
        "MpiExecLauncher",
        "MpiRunLauncher",
        "GnuParallelLauncher",
        "WrappedLauncher",
    )
}

__getattr__ = lazy_module_getattr(__name__, OPTIONAL_LAUNCHERS)


class SimpleLauncher(Launcher):
    """Run the command once, as it is: the command itself must start its workers."""

    def __init__(self, debug: bool = True) -> None:
        super().__init__(debug=debug)

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        if nodes_per_block > 1:
            logger.warning(
                "SimpleLauncher runs the command on one node only, but the block asks for "
                "%s nodes: you may get fewer workers than expected. Use a multi-node "
                "launcher such as SrunLauncher or MpiExecLauncher.",
                nodes_per_block,
            )
        return command


class SingleNodeLauncher(Launcher):
    """Start ``tasks_per_node * nodes_per_block`` copies of the command in parallel on this node.

    The script exports ``CORES`` (the number of online processors), passes each copy
    its index (1, 2, ...) as ``$1`` and waits for all of them. It exits non-zero when
    every copy failed, or, with ``fail_on_any=True``, when any copy failed.
    """

    def __init__(self, debug: bool = True, fail_on_any: bool = False):
        super().__init__(debug=debug)
        self.fail_on_any = fail_on_any

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = int(tasks_per_node) * int(nodes_per_block)
        body = command if command.strip() else ":"

        def say(text: str, indent: str = "") -> list[str]:
            return [f'{indent}echo "{text}"'] if self.debug else []

        lines = [
            "set -e",
            "export CORES=$(getconf _NPROCESSORS_ONLN)",
            *say("Found cores : $CORES"),
            f"WORKERCOUNT={copies}",
            f"FAILONANY={int(bool(self.fail_on_any))}",
            'PIDS=""',
            "",
            "CMD() {",
            body,
            "}",
            "for COUNT in $(seq 1 1 $WORKERCOUNT); do",
            *say("Launching worker: $COUNT", "    "),
            "    CMD $COUNT &",
            '    PIDS="$PIDS $!"',
            "done",
            "",
            "ALLFAILED=1",
            "ANYFAILED=0",
            "for PID in $PIDS; do",
            '    if wait "$PID"; then',
            "        ALLFAILED=0",
            "    else",
            "        ANYFAILED=1",
            "    fi",
            "done",
            *say("All workers done"),
            'if [ "$FAILONANY" = "1" ]; then',
            "    exit $ANYFAILED",
            "fi",
            "exit $ALLFAILED",
            "",
        ]
        return "\n".join(lines)
