"""Launchers for scheduler allocations: srun, aprun, jsrun, mpiexec, mpirun, GNU parallel.

A launcher is called as ``launcher(command, tasks_per_node, nodes_per_block, script_dir="")``
inside a provider's ``submit`` and returns the bash text of the job script that starts
``tasks_per_node`` copies of ``command`` on each node of the block. The multi-node
launchers write the command to ``cmd_<JOBNAME>.sh`` in ``SCRIPT_DIR``: ``script_dir`` when
given, else ``$PARSL_SCRIPT_DIR`` (set by the providers of this package), else the job's
working directory; and start that file on every node, so the command runs unchanged, its
variables expanded on each node.

Any callable with that signature works as a launcher; subclass
``parsl.launchers.base.Launcher`` to get a readable ``repr``::

    class TimeLauncher(Launcher):
        def __call__(self, command, tasks_per_node, nodes_per_block, script_dir=""):
            return f"time {command}"
"""

from __future__ import annotations

import logging

from parsl.launchers.base import Launcher

logger = logging.getLogger(__name__)

__all__ = [
    "AprunLauncher",
    "GnuParallelLauncher",
    "JsrunLauncher",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "SrunLauncher",
    "SrunMPILauncher",
    "WrappedLauncher",
]

# Quoted delimiter: the command is written verbatim and expanded where it runs.
_EOF = "PARSL_LAUNCHER_CMD_EOF"


def _double_quoted(text: str) -> str:
    """``text`` escaped for the inside of a bash double-quoted string."""
    for c in ("\\", '"', "$", "`"):
        text = text.replace(c, "\\" + c)
    return text


def _command_file(command: str, script_dir: str) -> list[str]:
    """Bash lines writing ``command`` to ``$CMDFILE`` (an absolute path in ``$SCRIPT_DIR``)."""
    return [
        f'SCRIPT_DIR="{_double_quoted(str(script_dir or ""))}"',
        '[[ -n $SCRIPT_DIR ]] || SCRIPT_DIR="${PARSL_SCRIPT_DIR:-}"',
        '[[ -d $SCRIPT_DIR ]] || SCRIPT_DIR=""',
        'CMDFILE="${SCRIPT_DIR:+$SCRIPT_DIR/}cmd_${JOBNAME:-parsl.$$}.sh"',
        '[[ $CMDFILE == /* ]] || CMDFILE="$PWD/$CMDFILE"',
        f"cat > \"$CMDFILE\" <<'{_EOF}'",
        command,
        _EOF,
        'chmod a+x "$CMDFILE"',
    ]


class _MultiNodeLauncher(Launcher):
    """Shared parts of the launchers that start a command file on many nodes."""

    def __init__(self, debug: bool = True, overrides: str = ""):
        super().__init__(debug=debug)
        self.overrides = overrides

    def _say(self, text: str) -> list[str]:
        return [f'echo "{text}"'] if self.debug else []

    def _script(self, command: str, script_dir: str, header: list[str], body: list[str]) -> str:
        lines = ["set -e", *header, *_command_file(command, script_dir), *body, *self._say("Done"), ""]
        return "\n".join(lines)


class SrunLauncher(_MultiNodeLauncher):
    """Start the command with one ``srun`` job step: ``tasks_per_node`` tasks on each node.

    ``overrides`` is added to the ``srun`` line (e.g. ``'--cpu-bind=none'``).
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        header = [
            "export CORES=$SLURM_CPUS_ON_NODE",
            "export NODES=$SLURM_JOB_NUM_NODES",
            *self._say("Found cores : $CORES"),
            *self._say("Found nodes : $NODES"),
            f"WORKERCOUNT={tasks}",
        ]
        body = [
            (
                f"srun --ntasks {tasks} --ntasks-per-node {int(tasks_per_node)} -l {self.overrides} "
                'bash "$CMDFILE"'
            )
        ]
        return self._script(command, script_dir, header, body)


class SrunMPILauncher(_MultiNodeLauncher):
    """One ``srun`` per worker pool, so each pool can itself start MPI applications.

    With more pools than nodes, the block's cores are shared out between them; otherwise
    each pool gets ``nodes / pools`` whole nodes (``--exclusive``).
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        blocks = int(tasks_per_node) * int(nodes_per_block)
        header = [
            "export CORES=$SLURM_CPUS_ON_NODE",
            "export NODES=$SLURM_JOB_NUM_NODES",
            *self._say("Found cores : $CORES"),
            *self._say("Found nodes : $NODES"),
            f"TASKBLOCKS={blocks}",
        ]
        ov = self.overrides
        body = [
            'if [ "$TASKBLOCKS" -gt "$NODES" ]; then',
            "    CORES_PER_BLOCK=$(( NODES * CORES / TASKBLOCKS ))",
            '    [ "$CORES_PER_BLOCK" -ge 1 ] || CORES_PER_BLOCK=1',
            "    for blk in $(seq 1 $TASKBLOCKS); do",
            f'        srun --ntasks $CORES_PER_BLOCK -l {ov} bash "$CMDFILE" &',
            "    done",
            "else",
            "    NODES_PER_BLOCK=$(( NODES / TASKBLOCKS ))",
            "    for blk in $(seq 1 $TASKBLOCKS); do",
            f'        srun --exclusive --nodes $NODES_PER_BLOCK -l {ov} bash "$CMDFILE" &',
            "    done",
            "fi",
            "wait",
        ]
        return self._script(command, script_dir, header, body)


class AprunLauncher(_MultiNodeLauncher):
    """Start the command with Cray's ``aprun -n <tasks> -N <tasks_per_node>``."""

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        header = [f"WORKERCOUNT={tasks}"]
        body = [f'aprun -n {tasks} -N {int(tasks_per_node)} {self.overrides} /bin/bash "$CMDFILE" &', "wait"]
        return self._script(command, script_dir, header, body)


class JsrunLauncher(_MultiNodeLauncher):
    """Start the command with IBM's ``jsrun -n <tasks> -r <tasks_per_node>`` (LSF, Summit)."""

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        header = [f"WORKERCOUNT={tasks}"]
        body = [f'jsrun -n {tasks} -r {int(tasks_per_node)} {self.overrides} /bin/bash "$CMDFILE" &', "wait"]
        return self._script(command, script_dir, header, body)


# Bash that writes the block's unique host names to $HOSTFILE, from whichever scheduler
# variable is set (one host, this one, when none is).
_HOSTFILE = [
    'HOSTFILE="$CMDFILE.hosts"',
    'if [ -n "${PBS_NODEFILE:-}" ] && [ -f "$PBS_NODEFILE" ]; then',
    '    sort -u "$PBS_NODEFILE" > "$HOSTFILE"',
    'elif [ -n "${COBALT_NODEFILE:-}" ] && [ -f "$COBALT_NODEFILE" ]; then',
    '    sort -u "$COBALT_NODEFILE" > "$HOSTFILE"',
    'elif [ -n "${SLURM_JOB_NODELIST:-}" ]; then',
    '    scontrol show hostnames "$SLURM_JOB_NODELIST" > "$HOSTFILE"',
    'elif [ -n "${LSB_HOSTS:-}" ]; then',
    '    echo $LSB_HOSTS | tr " " "\\n" | sort -u > "$HOSTFILE"',
    "else",
    '    hostname > "$HOSTFILE"',
    "fi",
]


class MpiExecLauncher(_MultiNodeLauncher):
    """Start the command with ``mpiexec`` over the block's hosts.

    ``bind_cmd`` is the option that turns process binding off (``--bind-to`` for Open MPI
    and MPICH: ``--bind-to none``); ``overrides`` is added to the ``mpiexec`` line
    (e.g. ``'--allow-run-as-root --oversubscribe'``).
    """

    def __init__(self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = ""):
        super().__init__(debug=debug, overrides=overrides)
        self.bind_cmd = bind_cmd

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        body = [
            *_HOSTFILE,
            *self._say("Found hosts: $(tr '\\n' ' ' < \"$HOSTFILE\")"),
            (
                f'mpiexec {self.bind_cmd} none {self.overrides} -n {tasks} --hostfile "$HOSTFILE" '
                'bash "$CMDFILE"'
            ),
        ]
        return self._script(command, script_dir, [f"WORKERCOUNT={tasks}"], body)


class MpiRunLauncher(_MultiNodeLauncher):
    """Start the command with ``mpirun -np <tasks>``; ``bash_location`` runs the command file."""

    def __init__(self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = ""):
        super().__init__(debug=debug, overrides=overrides)
        self.bash_location = bash_location

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        body = [f'mpirun -np {tasks} {self.overrides} {self.bash_location} "$CMDFILE"']
        return self._script(command, script_dir, [f"WORKERCOUNT={tasks}"], body)


class GnuParallelLauncher(_MultiNodeLauncher):
    """Start the command on every host of the block with GNU ``parallel --sshloginfile``.

    Needs ``parallel`` on the first node and password-less ssh between the nodes; each
    host runs ``tasks_per_node`` copies. The job log goes to ``$CMDFILE.parallel.log``.
    """

    def __init__(self, debug: bool = True):
        super().__init__(debug=debug)

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        tasks = int(tasks_per_node) * int(nodes_per_block)
        body = [
            *_HOSTFILE,
            'TASKS="$CMDFILE.tasks"',
            ': > "$TASKS"',
            f"for COUNT in $(seq 1 {tasks}); do",
            '    echo "bash $CMDFILE" >> "$TASKS"',
            "done",
            *self._say("Found hosts: $(tr '\\n' ' ' < \"$HOSTFILE\")"),
            (
                f'parallel --env _ --joblog "$CMDFILE.parallel.log" --sshloginfile "$HOSTFILE" '
                f'--jobs {int(tasks_per_node)} < "$TASKS"'
            ),
        ]
        return self._script(command, script_dir, [f"WORKERCOUNT={tasks}"], body)


class WrappedLauncher(Launcher):
    """Put ``prepend`` in front of the command (``'time'``, a container runtime, ...).

    It starts the command once: ask for one task per node and one node per block.
    """

    def __init__(self, prepend: str, debug: bool = True):
        super().__init__(debug=debug)
        self.prepend = prepend

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        if int(tasks_per_node) > 1:
            logger.warning(
                "WrappedLauncher starts the command once, whatever the number of tasks per "
                "node (%s): there may be fewer workers than you expect",
                tasks_per_node,
            )
        if int(nodes_per_block) > 1:
            logger.warning(
                "WrappedLauncher starts the command on one node, whatever the number of "
                "nodes per block (%s): there may be fewer workers than you expect",
                nodes_per_block,
            )
        return f"{self.prepend} {command}"
