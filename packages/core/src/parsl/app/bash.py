"""``BashApp``: the function body builds a command line, which runs under bash."""
from __future__ import annotations

import os
import signal
import subprocess
from functools import partial, update_wrapper
from typing import Any, Callable, Sequence

from parsl.app.app import AppBase

__all__ = ["BashApp", "remote_side_bash_executor"]


def _open_std(name: str, spec: Any) -> Any:
    from parsl.utils import get_std_fname_mode
    if spec is None:
        return None
    fname, mode = get_std_fname_mode(name, spec)
    try:
        d = os.path.dirname(fname)
        if d:
            os.makedirs(d, exist_ok=True)
        return open(fname, mode)
    except Exception as e:
        import parsl.app.errors as pe
        raise pe.BadStdStreamFile(f"cannot open {name} file {fname!r} with mode {mode!r}: {e}") from e


def remote_side_bash_executor(func: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Build the command with ``func``, run it under bash and check its outputs (runs on the worker)."""
    import parsl.app.errors as pe

    func_name = getattr(func, "__name__", "bash_app")
    try:
        executable = func(*args, **kwargs)
    except (IndexError, KeyError, AttributeError) as e:
        raise pe.AppBadFormatting(
            f"App formatting failed for app '{func_name}' with {type(e).__name__}: {e}") from e
    if executable is None:
        raise pe.BashAppNoReturn(f"bash_app {func_name} returned None: its body must return the "
                                 f"command line to run as a str")
    if not isinstance(executable, str):
        raise pe.BashAppNoReturn(f"bash_app {func_name} returned a {type(executable).__name__}: its body "
                                 f"must return the command line to run as a str")

    std_out = _open_std("stdout", kwargs.get("stdout"))
    std_err = _open_std("stderr", kwargs.get("stderr"))
    walltime = kwargs.get("walltime")
    try:
        proc = subprocess.Popen(executable, shell=True, executable="/bin/bash", stdout=std_out,
                                stderr=std_err, close_fds=False, start_new_session=walltime is not None)
        try:
            returncode = proc.wait(timeout=walltime)
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

    def __init__(self, func: Callable[..., Any], data_flow_kernel: Any = None, cache: bool = False,
                 executors: Any = "all", ignore_for_cache: Sequence[str] | None = None) -> None:
        super().__init__(func, data_flow_kernel=data_flow_kernel, executors=executors, cache=cache,
                         ignore_for_cache=ignore_for_cache)
        self._remote = update_wrapper(partial(remote_side_bash_executor, self._body_with_drop(func)), func)

    def _body_with_drop(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not self._not_accepted:
            return func
        drop = self._not_accepted

        def body(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **{k: v for k, v in kwargs.items() if k not in drop})

        update_wrapper(body, func)
        return body

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs = self._invocation_kwargs(kwargs)
        walltime = kwargs.get("walltime") if kwargs else None
        if walltime is not None and (isinstance(walltime, bool) or not isinstance(walltime, (int, float))
                                     or walltime <= 0):
            raise ValueError(f"walltime={walltime!r}: use a positive number of seconds")
        return self._kernel().submit(self._remote, args, executors=self.executors, cache=self.cache,
                                     ignore_for_cache=self.ignore_for_cache, app_kwargs=kwargs)
