"""``TaskRecord``: everything the DataFlowKernel knows about one task.

A slotted object for speed; it also answers ``record['id']`` style access, since
Parsl's task records are dicts and user code indexes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from parsl.dataflow.states import States

if TYPE_CHECKING:
    from parsl.app.futures import DataFuture
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.futures import AppFuture

__all__ = ["TaskRecord"]

_FIELDS = (
    "id",
    "func",
    "func_name",
    "args",
    "kwargs",
    "status",
    "depends",
    "app_fu",
    "exec_fu",
    "executor",
    "retries_left",
    "fail_count",
    "fail_cost",
    "fail_history",
    "checkpoint",
    "hashsum",
    "memoize",
    "ignore_for_cache",
    "from_memo",
    "join",
    "joins",
    "try_id",
    "resource_specification",
    "time_invoked",
    "time_returned",
    "try_time_launched",
    "try_time_returned",
    "outputs",
    "dfk",
    "pending_deps",
    "launched",
)


class TaskRecord:
    """One task's state. Attribute access is the fast path; ``rec['name']`` also works."""

    # ``untold`` is not one of Parsl's keys: see :data:`parsl.plugins.QUIET_START`
    __slots__ = _FIELDS + ("untold", "__weakref__")

    # The fields' types (declarations only: the values live in the slots).
    id: int
    func: Callable[..., Any]
    func_name: str
    args: Sequence[Any]
    kwargs: dict[str, Any]
    status: States
    depends: Sequence[Future[Any]]
    #: set by the DataFlowKernel as soon as the AppFuture exists; None again once the task
    #: finished when the Config garbage-collects finished tasks
    app_fu: AppFuture[Any] | None
    exec_fu: Future[Any] | None
    executor: str
    retries_left: int
    fail_count: int
    fail_cost: float
    fail_history: list[str] | None
    checkpoint: bool
    hashsum: str | None
    memoize: bool
    #: keyword arguments left out of the memo key: a list, or ``()`` when there are none
    ignore_for_cache: Sequence[str]
    from_memo: bool | None
    join: bool
    joins: Future[Any] | Sequence[Future[Any]] | dict[Any, Future[Any]] | None
    try_id: int
    resource_specification: dict[str, Any]
    time_invoked: float
    time_returned: float | None
    try_time_launched: float | None
    try_time_returned: float | None
    outputs: Sequence[DataFuture]
    dfk: DataFlowKernel
    pending_deps: int
    launched: bool
    #: True from a quiet start (see :data:`parsl.plugins.QUIET_START`) until a plugin was told
    #: of the task: no plugin has heard of its pending state or its first launch
    untold: bool

    def __init__(
        self,
        id: int,
        func: Callable[..., Any],
        func_name: str,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        executor: str,
        retries_left: int,
        memoize: bool,
        ignore_for_cache: Sequence[str],
        join: bool,
        time_invoked: float,
        dfk: DataFlowKernel,
        resource_specification: dict[str, Any],
    ) -> None:
        self.id = id
        self.func = func
        self.func_name = func_name
        self.args = args
        self.kwargs = kwargs
        self.executor = executor
        self.retries_left = retries_left
        self.memoize = memoize
        self.ignore_for_cache = ignore_for_cache
        self.join = join
        self.time_invoked = time_invoked
        self.dfk = dfk
        self.resource_specification = resource_specification
        self.status = States.unsched
        self.depends = ()
        self.app_fu = None
        self.exec_fu = None
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history = None
        self.checkpoint = False
        self.hashsum = None
        self.from_memo = None
        self.joins = None
        self.try_id = 0
        self.time_returned = None
        self.try_time_launched = None
        self.try_time_returned = None
        self.outputs = ()
        self.pending_deps = 0
        self.launched = False
        self.untold = False

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            setattr(self, key, value)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in _FIELDS and hasattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in _FIELDS else default

    def keys(self) -> Iterator[str]:
        return (k for k in _FIELDS if hasattr(self, k))

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __repr__(self) -> str:
        return f"<TaskRecord id={getattr(self, 'id', None)} {getattr(self, 'func_name', '?')} {self.status.name}>"
