"""Small utilities users import from ``parsl.utils``: checkpoint discovery,
``RepresentationMixin`` and a few helpers shared by the kernel and plugins."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self  # annotations only

__all__ = [
    "AtomicIDCounter",
    "AutoCancelTimer",
    "RepresentationMixin",
    "Timer",
    "execute_wait",
    "get_all_checkpoints",
    "get_last_checkpoint",
    "get_std_fname_mode",
    "get_version",
    "sanitize_dns_label_rfc1123",
    "sanitize_dns_subdomain_rfc1123",
    "setproctitle",
    "time_limited_open",
    "wait_for",
    "wait_for_file",
    "wtime_to_minutes",
]


def get_version() -> str:
    """Return the installed parslcore version."""
    from parsl.version import VERSION

    return VERSION


def _checkpoint_dirs(rundir: str) -> list[str]:
    if not os.path.isdir(rundir):
        return []
    found = []
    # run directories are numbered 000, 001, ..., 999, 1000: order them by number (any
    # other names first), so the newest numbered run comes last
    names = sorted(os.listdir(rundir), key=lambda n: (1, int(n), "") if n.isdigit() else (0, 0, n))
    for name in names:
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
    """Split a stdout/stderr spec (path, PathLike, File or ``(path, mode)``) into path and mode.

    A spec of the wrong shape or type raises :class:`parsl.errors.TypeCheckError`; a mode
    ``open()`` rejects surfaces later as ``BadStdStreamFile``.
    """
    from parsl.data_provider.files import File
    from parsl.errors import type_check_error

    if isinstance(stdfspec, (str, os.PathLike)):
        return os.fspath(stdfspec), "a+"
    if isinstance(stdfspec, File):
        return stdfspec.filepath, "a+"
    if isinstance(stdfspec, tuple):
        if len(stdfspec) != 2:
            raise type_check_error(
                f"{fdname}={stdfspec!r} has {len(stdfspec)} elements; use a path or a (path, mode) "
                f"tuple, for example {fdname}=('out.txt', 'w')"
            )
        fname, mode = stdfspec
        if not isinstance(fname, (str, os.PathLike)) or not isinstance(mode, str):
            raise type_check_error(
                f"{fdname}={stdfspec!r}: a (path, mode) tuple needs a str path and a str mode, "
                f"for example {fdname}=('out.txt', 'w')"
            )
        return os.fspath(fname), mode
    hint = " (a list: use a tuple)" if isinstance(stdfspec, list) else ""
    raise type_check_error(
        f"{fdname}={stdfspec!r} is a {type(stdfspec).__name__}{hint}; use a path, a File, "
        f"a (path, mode) tuple or parsl.AUTO_LOGNAME"
    )


class RepresentationMixin:
    """Give a class a ``repr`` built from its ``__init__`` arguments.

    Every ``__init__`` parameter should be stored on an attribute of the same name; the repr
    then reads back as valid Python: ``Config(retries=2, ...)``. Arguments not stored are
    left out, unless ``_validate_repr`` is set, when they raise AttributeError.
    """

    __max_width__ = 80
    #: raise AttributeError for an ``__init__`` argument not stored on the object (True), or
    #: leave it out of the repr (False, the default: a repr should never raise)
    _validate_repr: bool = False

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
                if not self._validate_repr:
                    continue
                raise AttributeError(
                    f"{type(self).__name__} has no attribute {name!r}: RepresentationMixin needs "
                    f"every __init__ argument stored under the same name"
                )
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


def execute_wait(
    cmd: str, walltime: float | None = None, env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[int, str, str]:
    """Run a shell command and return (exit code, stdout, stderr)."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    proc = subprocess.run(
        ["/bin/bash", "-c", cmd], capture_output=True, text=True, timeout=walltime, env=full_env, cwd=cwd
    )
    return proc.returncode, proc.stdout, proc.stderr


def quote_args(args: Sequence[str]) -> str:
    """Join arguments into one shell-safe command line."""
    return " ".join(shlex.quote(a) for a in args)


def wait_for_file(path: str | os.PathLike[str], seconds: float = 10) -> bool:
    """Wait up to ``seconds`` for ``path`` to exist; return whether it does."""
    return wait_for(lambda: os.path.exists(path), timeout=seconds, period=0.05)


@contextlib.contextmanager
def time_limited_open(path: str | os.PathLike[str], mode: str, seconds: float = 1) -> Iterator[IO[Any]]:
    """Open ``path`` once it exists, waiting at most ``seconds`` for another thread or process
    to create it (then ``open`` raises FileNotFoundError as usual); closes it on exit."""
    wait_for_file(path, seconds)
    with open(path, mode) as f:
        yield f


def wtime_to_minutes(time_string: str) -> int:
    """Convert a walltime ``"HH:MM:SS"`` to whole minutes, rounding seconds up."""
    try:
        hours, mins, secs = (int(x) for x in time_string.split(":"))
    except ValueError:
        raise ValueError(f"walltime {time_string!r} is not 'HH:MM:SS', e.g. '01:30:00'") from None
    return hours * 60 + mins + (1 if secs > 0 else 0)


class AtomicIDCounter:
    """Hand out increasing integer ids, safely from any thread."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def get_id(self) -> int:
        # itertools.count.__next__ is atomic under the GIL
        return next(self._counter)


def setproctitle(title: str) -> None:
    """Set the process title (as seen by ``ps``) when the ``setproctitle`` package is installed."""
    try:
        import setproctitle as _spt
    except ImportError:
        return
    _spt.setproctitle(title)


class AutoCancelTimer(threading.Timer):
    """A ``threading.Timer`` to use as a context manager: started on entry, cancelled on exit."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


_DNS_LABEL_BAD = re.compile(r"[^a-z0-9-]")
_DNS_SUBDOMAIN_BAD = re.compile(r"[^a-z0-9.-]")


def sanitize_dns_label_rfc1123(raw_string: str) -> str:
    """Turn ``raw_string`` into a valid RFC 1123 DNS label (e.g. a Kubernetes name).

    Lower-cases it, turns other characters than letters, digits and ``-`` into ``-``, trims
    ``-`` from both ends and keeps at most 63 characters. Raises ValueError if nothing is left.
    """
    label = re.sub("-+", "-", _DNS_LABEL_BAD.sub("-", raw_string.lower()))  # runs become one "-"
    label = label[:63].strip("-")  # cut first, then trim: as Parsl does
    if not label:
        raise ValueError(f"Sanitized DNS label is empty for input '{raw_string}'")
    return label


def sanitize_dns_subdomain_rfc1123(raw_string: str) -> str:
    """Turn ``raw_string`` into a valid RFC 1123 DNS subdomain: dot-separated valid labels,
    at most 253 characters. Raises ValueError if nothing is left."""
    cleaned = _DNS_SUBDOMAIN_BAD.sub("-", raw_string.lower())
    labels = []
    for part in cleaned.split("."):
        if part:  # empty parts (".." or an end dot) are dropped; a part with nothing valid raises
            labels.append(sanitize_dns_label_rfc1123(part))
    subdomain = ".".join(labels)[:253].rstrip("-.")
    if not subdomain:
        raise ValueError(f"Sanitized DNS subdomain is empty for input '{raw_string}'")
    return subdomain
