"""The app decorators: ``python_app``, ``bash_app``, ``join_app`` (and the old ``App``)."""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import partial, update_wrapper
from inspect import Parameter, signature
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from parsl.app.errors import InvalidAppTypeError

_R = TypeVar("_R")

if TYPE_CHECKING:
    from parsl.app.bash import BashApp
    from parsl.app.python import PythonApp
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.futures import AppFuture

    class _PythonAppDecorator(Protocol):
        """``python_app``: bare (``@python_app``) or with options; the app keeps the result type."""

        @overload
        def __call__(
            self,
            function: Callable[..., _R],
            data_flow_kernel: DataFlowKernel | None = None,
            cache: bool = False,
            executors: Sequence[str] | Literal["all"] = "all",
            ignore_for_cache: Sequence[str] | None = None,
        ) -> PythonApp[_R]: ...

        @overload
        def __call__(
            self,
            function: None = None,
            data_flow_kernel: DataFlowKernel | None = None,
            cache: bool = False,
            executors: Sequence[str] | Literal["all"] = "all",
            ignore_for_cache: Sequence[str] | None = None,
        ) -> Callable[[Callable[..., _R]], PythonApp[_R]]: ...

    class _BashAppDecorator(Protocol):
        """``bash_app``: bare or with options, on a function returning the command line."""

        @overload
        def __call__(
            self,
            function: Callable[..., str],
            data_flow_kernel: DataFlowKernel | None = None,
            cache: bool = False,
            executors: Sequence[str] | Literal["all"] = "all",
            ignore_for_cache: Sequence[str] | None = None,
        ) -> BashApp: ...

        @overload
        def __call__(
            self,
            function: None = None,
            data_flow_kernel: DataFlowKernel | None = None,
            cache: bool = False,
            executors: Sequence[str] | Literal["all"] = "all",
            ignore_for_cache: Sequence[str] | None = None,
        ) -> Callable[[Callable[..., str]], BashApp]: ...


__all__ = ["App", "AppBase", "bash_app", "join_app", "python_app"]

#: ``DataFlowKernelLoader``, once an app without a bound kernel first needs it (see _kernel)
_loader: list[Any] = [None]

#: keyword arguments Parsl itself interprets
SPECIAL_KWARGS = (
    "inputs",
    "outputs",
    "stdout",
    "stderr",
    "walltime",
    "parsl_resource_specification",
    "_parsl_staging_inhibit",
)


def _drop_kwargs_call(func: Callable[..., Any], drop: frozenset[str], *args: Any, **kwargs: Any) -> Any:
    for k in drop:
        kwargs.pop(k, None)
    return func(*args, **kwargs)


def drop_keywords(func: Callable[..., Any], drop: frozenset[str]) -> Callable[..., Any]:
    """``func`` wrapped so the keyword arguments named in ``drop`` are not passed to it."""
    return update_wrapper(partial(_drop_kwargs_call, func, drop), func)


def check_walltime(walltime: object) -> None:
    """Raise ValueError unless ``walltime`` is None or a positive number of seconds."""
    if walltime is not None and (
        isinstance(walltime, bool) or not isinstance(walltime, (int, float)) or walltime <= 0
    ):
        raise ValueError(f"walltime={walltime!r}: use a positive number of seconds")


class AppBase(metaclass=ABCMeta):
    """Shared machinery of apps: options, signature defaults and the kernel to submit to."""

    def __init__(
        self,
        func: Callable[..., Any],
        data_flow_kernel: DataFlowKernel | None = None,
        executors: Sequence[str] | Literal["all"] = "all",
        cache: bool = False,
        ignore_for_cache: Sequence[str] | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"An app must decorate a function, not {type(func).__name__}")
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.__doc__ = getattr(func, "__doc__", None)
        self.__wrapped__ = func
        self.func = func
        self.data_flow_kernel = data_flow_kernel
        if isinstance(executors, str) and executors != "all":
            executors = [executors]
        self.executors = executors
        if not isinstance(cache, bool):
            raise TypeError(f"cache= must be True or False, not {cache!r}")
        self.cache = cache
        if ignore_for_cache is not None and (
            isinstance(ignore_for_cache, str) or not all(isinstance(k, str) for k in ignore_for_cache)
        ):
            raise TypeError(
                f"ignore_for_cache= must be a list of keyword argument names, not {ignore_for_cache!r}"
            )
        self.ignore_for_cache = list(ignore_for_cache) if ignore_for_cache else None
        params: Mapping[str, Parameter]
        try:
            params = signature(func).parameters
        except (TypeError, ValueError):
            params = {}
        #: defaults the function declares for Parsl's special keyword arguments
        self.kwargs: dict[str, Any] = {}
        for name in ("stdout", "stderr", "walltime", "parsl_resource_specification"):
            p = params.get(name)
            if p is not None and p.default is not Parameter.empty:
                self.kwargs[name] = p.default
        # as in Parsl, default inputs=/outputs= take part in the call: futures among default
        # inputs are waited for and default outputs become DataFutures (empty ones cost nothing)
        for name in ("inputs", "outputs"):
            p = params.get(name)
            if p is not None and p.default is not Parameter.empty and p.default:
                self.kwargs[name] = p.default
        self.outputs = params["outputs"].default if "outputs" in params else []
        self.inputs = params["inputs"].default if "inputs" in params else []
        #: the function's parameters, for subclasses that need more than the above
        self._parameters = list(params.values())
        takes_any = any(p.kind is Parameter.VAR_KEYWORD for p in params.values())
        self._not_accepted = (
            frozenset() if takes_any else frozenset(k for k in SPECIAL_KWARGS if k not in params)
        )
        self._prepare()

    def _prepare(self) -> None:  # noqa: B027 - an optional hook, empty on purpose
        """Set up what a subclass needs beyond the common options (called last by ``__init__``)."""

    def _kernel(self) -> DataFlowKernel:
        dfk = self.data_flow_kernel
        if dfk is None:
            loader = _loader[0]
            if loader is None:  # imported here (a cycle at module level), once
                from parsl.dataflow.dflow import DataFlowKernelLoader

                loader = _loader[0] = DataFlowKernelLoader
            dfk = loader.dfk()
        return dfk

    def _invocation_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.kwargs:
            merged = dict(self.kwargs)
            merged.update(kwargs)
            return merged
        return kwargs

    @abstractmethod
    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture[Any]:
        """Submit the app; return its AppFuture."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__}>"


def _decorator(kind: str, function: Any, **opts: Any) -> Any:
    def wrap(f: Callable[..., Any]) -> Any:
        if kind == "bash":
            from parsl.app.bash import BashApp

            return BashApp(f, **opts)
        from parsl.app.python import PythonApp

        return PythonApp(f, join=kind == "join", **opts)

    if function is not None:
        return wrap(function)
    return wrap


class _AppDecorator:
    """``python_app`` and ``bash_app``: one decorator, two kinds of app, the same options."""

    def __init__(self, kind: str, doc: str) -> None:
        self._kind = kind
        self.__name__ = self.__qualname__ = f"{kind}_app"
        self.__module__ = __name__
        self.__doc__ = doc

    def __call__(
        self,
        function: Callable[..., Any] | None = None,
        data_flow_kernel: DataFlowKernel | None = None,
        cache: bool = False,
        executors: Sequence[str] | Literal["all"] = "all",
        ignore_for_cache: Sequence[str] | None = None,
    ) -> Any:
        return _decorator(
            self._kind,
            function,
            data_flow_kernel=data_flow_kernel,
            cache=cache,
            executors=executors,
            ignore_for_cache=ignore_for_cache,
        )

    def __repr__(self) -> str:
        return f"<app decorator {self.__name__}>"

    def __reduce__(self) -> str:
        return self.__name__  # pickled by reference, like a module-level function


python_app: _PythonAppDecorator = _AppDecorator(
    "python",
    """Make a Python function an app: calling it returns an AppFuture.

    Works as ``@python_app`` and ``@python_app(executors=['htex'], cache=True)``.
    """,
)

bash_app: _BashAppDecorator = _AppDecorator(
    "bash",
    """Make a function returning a command line into an app that runs it under bash.

    The AppFuture's result is the exit code (0); a non-zero exit raises ``BashExitFailure``.
    """,
)


@overload
def join_app(
    function: Callable[..., Any],
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    ignore_for_cache: Sequence[str] | None = None,
) -> PythonApp[Any]: ...


@overload
def join_app(
    function: None = None,
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    ignore_for_cache: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], PythonApp[Any]]: ...


def join_app(
    function: Callable[..., Any] | None = None,
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    ignore_for_cache: Sequence[str] | None = None,
) -> PythonApp[Any] | Callable[[Callable[..., Any]], PythonApp[Any]]:
    """Make a function that launches other apps and returns their future(s) into an app.

    The join app's AppFuture completes with the inner future's result (or the list / dict of
    results); a failing inner app makes it fail with ``JoinError``.
    """
    app: PythonApp[Any] | Callable[[Callable[..., Any]], PythonApp[Any]] = _decorator(
        "join", function, data_flow_kernel=data_flow_kernel, cache=cache, ignore_for_cache=ignore_for_cache
    )
    return app


class App:
    """The 0.8-era ``@App('python' | 'bash', dfk)`` decorator; use ``python_app``/``bash_app``."""

    def __init__(
        self,
        apptype: str,
        data_flow_kernel: DataFlowKernel | None = None,
        executors: Sequence[str] | Literal["all"] = "all",
        cache: bool = False,
        ignore_for_cache: Sequence[str] | None = None,
    ) -> None:
        warnings.warn(
            "The App decorator is deprecated; use @python_app or @bash_app", DeprecationWarning, stacklevel=2
        )
        if apptype not in ("python", "bash"):
            raise InvalidAppTypeError(f"Invalid apptype {apptype!r}: use 'python' or 'bash'")
        self.apptype = apptype
        self.opts = dict(
            data_flow_kernel=data_flow_kernel,
            executors=executors,
            cache=cache,
            ignore_for_cache=ignore_for_cache,
        )

    def __call__(self, f: Callable[..., Any]) -> AppBase:
        app: AppBase = _decorator(self.apptype, f, **self.opts)
        return app
