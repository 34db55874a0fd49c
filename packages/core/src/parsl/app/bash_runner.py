"""Run bash app command lines quickly through a long-lived bash per thread.

Starting ``/bin/bash`` for every bash app costs an exec, dynamic linking and start-up,
about 2 ms here. Instead each worker thread keeps one bash that reads command lines from
a pipe and runs each in a subshell: ``( eval "$cmd" ) </dev/null >>out 2>>err``. The
subshell gives every command the isolation of a fresh ``bash -c``: its own variables,
``cd``, traps and ``exit``, and a syntax error fails only that command (exit status 2).

The runner is used only when the result cannot differ from ``bash -c``: no walltime
(which needs a process group to kill), plain write or append modes for stdout/stderr, and
the same environment and working directory as when the runner's bash started (otherwise it
is restarted). ``PARSL_BASH_RUNNER=0`` turns it off.
"""

from __future__ import annotations

import atexit
import os
import shlex
import signal
import subprocess
import threading
import weakref

__all__ = ["run_command", "runner_enabled"]

_SERVER_SCRIPT = r"""
while IFS= read -r -d '' __parsl_cmd; do
  IFS= read -r -d '' __parsl_redir || exit 0
  eval "( eval \"\$__parsl_cmd\" ) $__parsl_redir"
  printf '%d\n' "$?" >&RESULT_FD
done
"""

_local = threading.local()
_all_runners: weakref.WeakSet[_Runner] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # By now the DataFlowKernel has shut its executors down: a runner still busy belongs to a
    # task the exiting workflow abandoned (Ctrl-C, SIGTERM), so its commands are killed
    # rather than left running as orphans.
    for runner in list(_all_runners):
        runner.close(grace=0.5)
    for proc in list(_popen_children):
        kill_process_group(proc)


#: bash processes started with Popen (walltime, unusual stdout modes) that are still running
_popen_children: weakref.WeakSet[subprocess.Popen] = weakref.WeakSet()


def kill_process_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group ``proc`` leads (it was started with start_new_session=True)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass


def runner_enabled() -> bool:
    return os.environ.get("PARSL_BASH_RUNNER", "1") not in ("0", "false", "no")


class _Runner:
    """One long-lived bash reading NUL-terminated commands and reporting exit codes on fd 3."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.cwd = os.getcwd()
        rfd, wfd = os.pipe()
        self.result_fd = wfd
        try:
            self.proc = subprocess.Popen(
                ["/bin/bash", "--norc", "--noprofile", "-c", _SERVER_SCRIPT.replace("RESULT_FD", str(wfd))],
                stdin=subprocess.PIPE,
                pass_fds=(wfd,),
                env=self.env,
                # its own process group, so a command still running at exit can be killed
                # with everything it started
                start_new_session=True,
            )
        finally:
            os.close(wfd)
        self.results = os.fdopen(rfd, "rb", buffering=0)
        self._buf = b""
        _all_runners.add(self)

    def fresh(self) -> bool:
        return self.proc.poll() is None and os.environ == self.env and os.getcwd() == self.cwd

    def send(self, command: str, redirects: str) -> None:
        data = command.encode() + b"\0" + redirects.encode() + f" {self.result_fd}>&-".encode() + b"\0"
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_status(self) -> int:
        while b"\n" not in self._buf:
            chunk = self.results.read(64)
            if not chunk:
                raise OSError("bash runner exited unexpectedly")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return int(line)

    def __del__(self) -> None:
        # The owning thread ended (e.g. its executor shut down): let bash go too.
        self.close()

    def close(self, grace: float = 5.0) -> None:
        if self.results.closed:
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=grace)
        except Exception:
            kill_process_group(self.proc)
        self.results.close()


def _redirect(op: str, spec: tuple[str, str] | None) -> str | None:
    if spec is None:
        return ""
    path, mode = spec
    if mode in ("a", "a+", "ab", "ab+", "a+b"):
        return f" {op}>> {shlex.quote(path)}"
    if mode in ("w", "w+", "wb", "wb+", "w+b"):
        return f" {op}> {shlex.quote(path)}"
    return None


def run_command(command: str, stdout: tuple[str, str] | None, stderr: tuple[str, str] | None) -> int | None:
    """Run ``command`` under bash; return its exit status, or None if the runner cannot be used."""
    if "\0" in command:
        return None
    out = _redirect("1", stdout)
    err = _redirect("2", stderr)
    if out is None or err is None:
        return None
    runner: _Runner | None = getattr(_local, "runner", None)
    if runner is not None and not runner.fresh():
        runner.close()
        runner = None
    if runner is None:
        runner = _local.runner = _Runner()
    try:
        runner.send(command, "</dev/null" + out + err)
    except (OSError, ValueError):
        runner.close()
        _local.runner = None
        return None
    try:
        return runner.wait_status()
    except (OSError, ValueError) as e:
        # The command may have run: never run it a second time.
        runner.close()
        _local.runner = None
        raise OSError(f"the bash process running the command exited unexpectedly: {e}") from e
