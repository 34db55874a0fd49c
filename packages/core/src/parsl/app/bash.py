"""``BashApp``: the function body builds a command line, which runs under bash."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from functools import partial, update_wrapper
from typing import IO, TYPE_CHECKING, Any

from parsl.app.app import AppBase, check_walltime, drop_keywords
from parsl.app.bash_runner import _popen_children, run_command, runner_enabled

if TYPE_CHECKING:
    from parsl.dataflow.futures import AppFuture

__all__ = ["BashApp", "remote_side_bash_executor"]


def _std_spec(name: str, spec: object) -> tuple[str, str] | None:
    """(path, mode) for a stdout/stderr argument, creating the file's directory.

    As in Parsl, a path or ``(path, mode)`` defaults to appending, while a :class:`File`
    is truncated (mode ``'w'``).
    """
    if spec is None:
        return None
    from parsl.data_provider.files import File

    if isinstance(spec, File):
        fname, mode = spec.filepath, "w"
    else:
        from parsl.utils import get_std_fname_mode

        fname, mode = get_std_fname_mode(name, spec)
    d = os.path.dirname(fname)
    if d:
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            import parsl.app.errors as pe

            raise pe.BadStdStreamFile(f"cannot create the directory of {name} file {fname!r}: {e}") from e
    return fname, mode


def _write_executable_header(spec: tuple[str, str], executable: str) -> tuple[str, str]:
    """Write the command line to the stderr file first (as Parsl does); return the spec to append."""
    fname, mode = spec
    header = f"--> executable follows <--\n{executable}\n--> end executable <--\n"
    binary = "b" in mode
    try:
        with open(fname, mode) as f:
            f.write(header.encode() if binary else header)
    except Exception as e:
        import parsl.app.errors as pe

        raise pe.BadStdStreamFile(f"cannot open stderr file {fname!r} with mode {mode!r}: {e}") from e
    return fname, "ab" if binary else "a"


def _open_std(name: str, spec: tuple[str, str] | None) -> IO[Any] | None:
    if spec is None:
        return None
    fname, mode = spec
    try:
        return open(fname, mode)
    except Exception as e:
        import parsl.app.errors as pe

        raise pe.BadStdStreamFile(f"cannot open {name} file {fname!r} with mode {mode!r}: {e}") from e


def _run_with_popen(
    func_name: str,
    executable: str,
    out_spec: tuple[str, str] | None,
    err_spec: tuple[str, str] | None,
    walltime: float | None,
) -> int:
    import parsl.app.errors as pe

    std_out = _open_std("stdout", out_spec)
    try:
        std_err = _open_std("stderr", err_spec)
    except BaseException:
        if std_out is not None:
            std_out.close()
        raise
    try:
        # a process group of its own: walltime and interpreter exit kill everything it started
        proc = subprocess.Popen(
            executable,
            shell=True,
            executable="/bin/bash",
            stdout=std_out,
            stderr=std_err,
            close_fds=False,
            start_new_session=True,
        )
        _popen_children.add(proc)
        try:
            return proc.wait(timeout=walltime)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise pe.AppTimeout(f"bash_app {func_name} exceeded walltime: {walltime} seconds") from None
    finally:
        if std_out is not None:
            std_out.close()
        if std_err is not None:
            std_err.close()


def remote_side_bash_executor(func: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Build the command with ``func``, run it under bash and check its outputs (runs on the worker)."""
    import parsl.app.errors as pe

    func_name = getattr(func, "__name__", "bash_app")
    try:
        executable = func(*args, **kwargs)
    except (IndexError, KeyError, AttributeError) as e:
        raise pe.AppBadFormatting(
            f"App formatting failed for app '{func_name}' with {type(e).__name__}: {e}"
        ) from e
    if executable is None:
        raise pe.BashAppNoReturn(
            f"bash_app {func_name} returned None: its body must return the command line to run as a str"
        )
    if not isinstance(executable, str):
        raise pe.BashAppNoReturn(
            f"bash_app {func_name} returned a {type(executable).__name__}: its body "
            f"must return the command line to run as a str"
        )

    walltime = kwargs.get("walltime")
    out_spec = _std_spec("stdout", kwargs.get("stdout"))
    err_spec = _std_spec("stderr", kwargs.get("stderr"))
    if err_spec is not None:
        err_spec = _write_executable_header(err_spec, executable)
    returncode = None
    if walltime is None and runner_enabled():
        returncode = run_command(executable, out_spec, err_spec)
    if returncode is None:
        returncode = _run_with_popen(func_name, executable, out_spec, err_spec, walltime)

    if returncode != 0:
        raise pe.BashExitFailure(func_name, returncode)

    missing = []
    for f in kwargs.get("outputs") or ():
        path = getattr(f, "filepath", f)
        if not os.path.exists(os.fspath(path)):
            missing.append(f)
    if missing:
        raise pe.MissingOutputs(f"bash_app {func_name} did not create its declared outputs", missing)
    return returncode


class BashApp(AppBase):
    """A function whose returned string is run as a bash command line."""

    def _prepare(self) -> None:
        func = self.func
        body = drop_keywords(func, self._not_accepted) if self._not_accepted else func
        self._remote = update_wrapper(partial(remote_side_bash_executor, body), func)
        # As in Parsl, every parameter default of a bash app (outputs=, label=, ...) is part of
        # the invocation: default outputs are tracked and checked, a default label names logs.
        params = self._parameters
        self._defaults = {
            p.name: p.default
            for p in params
            if p.default is not p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        self._positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def _bash_invocation_kwargs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        defaults = self._defaults
        if not defaults:
            return kwargs
        if args:
            covered = self._positional[: len(args)]
            merged = {k: v for k, v in defaults.items() if k not in covered}
        else:
            merged = dict(defaults)
        merged.update(kwargs)
        return merged

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture[int]:
        kwargs = self._bash_invocation_kwargs(args, kwargs)
        if kwargs:
            check_walltime(kwargs.get("walltime"))
        return self._kernel().submit(
            self._remote,
            args,
            executors=self.executors,
            cache=self.cache,
            ignore_for_cache=self.ignore_for_cache,
            app_kwargs=kwargs,
        )
