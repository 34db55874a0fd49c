"""Small utilities users import from ``parsl.utils``: checkpoint discovery,
``RepresentationMixin`` and a few helpers shared by the kernel and plugins."""
from __future__ import annotations

import inspect
import os
import shlex
import subprocess
import threading
import time
from typing import Any, Callable, Sequence

__all__ = [
    "RepresentationMixin",
    "get_all_checkpoints",
    "get_last_checkpoint",
    "get_std_fname_mode",
    "Timer",
    "wait_for",
    "get_version",
]


def get_version() -> str:
    """Return the installed parslcore version."""
    from parsl.version import VERSION
    return VERSION


def _checkpoint_dirs(rundir: str) -> list[str]:
    if not os.path.isdir(rundir):
        return []
    found = []
    for name in sorted(os.listdir(rundir)):
        ck = os.path.join(rundir, name, "checkpoint")
        if os.path.isdir(ck):
            found.append(os.path.abspath(ck))
    return found


def get_all_checkpoints(rundir: str = "runinfo") -> list[str]:
    """Return every checkpoint directory under ``rundir``, oldest run first."""
    return _checkpoint_dirs(rundir)


def get_last_checkpoint(rundir: str = "runinfo") -> list[str]:
    """Return a list holding the newest run's checkpoint directory (empty if none)."""
    dirs = _checkpoint_dirs(rundir)
    return dirs[-1:]


def get_std_fname_mode(fdname: str, stdfspec: Any) -> tuple[str, str]:
    """Split a stdout/stderr spec (path, PathLike, File or ``(path, mode)``) into path and mode."""
    import parsl.app.errors as pe
    from parsl.data_provider.files import File

    if isinstance(stdfspec, (str, os.PathLike)):
        return os.fspath(stdfspec), "a+"
    if isinstance(stdfspec, File):
        return stdfspec.filepath, "a+"
    if isinstance(stdfspec, tuple):
        if len(stdfspec) != 2:
            raise pe.BadStdStreamFile(
                f"std descriptor {fdname} has {len(stdfspec)} elements; use (path, mode), "
                "for example ('out.txt', 'w')")
        fname, mode = stdfspec
        if not isinstance(fname, (str, os.PathLike)) or not isinstance(mode, str):
            raise pe.BadStdStreamFile(
                f"std descriptor {fdname} must be (path, mode) with a str mode; got {stdfspec!r}")
        return os.fspath(fname), mode
    raise pe.BadStdStreamFile(
        f"std descriptor {fdname} has unexpected type {type(stdfspec).__name__}; "
        "use a path, a File, a (path, mode) tuple or parsl.AUTO_LOGNAME")


class RepresentationMixin:
    """Give a class a ``repr`` built from its ``__init__`` arguments.

    Every ``__init__`` parameter must be stored on an attribute of the same name.
    The repr then reads back as valid Python: ``Config(retries=2, ...)``.
    """

    __max_width__ = 80

    def __repr__(self) -> str:
        init = self.__init__  # type: ignore[misc]
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return object.__repr__(self)
        parts = []
        for name, param in sig.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} has no attribute {name!r}: RepresentationMixin needs "
                    f"every __init__ argument stored under the same name")
            parts.append(f"{name}={getattr(self, name)!r}")
        one_line = f"{type(self).__name__}({', '.join(parts)})"
        if len(one_line) <= self.__max_width__:
            return one_line
        inner = ",\n".join("    " + p.replace("\n", "\n    ") for p in parts)
        return f"{type(self).__name__}(\n{inner}\n)"


class Timer:
    """Call a function every ``interval`` seconds on a daemon thread until ``close()``."""

    def __init__(self, callback: Callable[[], Any], interval: float = 5, name: str | None = None):
        self.callback = callback
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or "parsl-timer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.callback()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def wait_for(predicate: Callable[[], bool], timeout: float, period: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(period)


def execute_wait(cmd: str, walltime: float | None = None, env: dict | None = None,
                 cwd: str | None = None) -> tuple[int, str, str]:
    """Run a shell command and return (exit code, stdout, stderr)."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    proc = subprocess.run(["/bin/bash", "-c", cmd], capture_output=True, text=True,
                          timeout=walltime, env=full_env, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def quote_args(args: Sequence[str]) -> str:
    """Join arguments into one shell-safe command line."""
    return " ".join(shlex.quote(a) for a in args)
