"""A task's monitoring values, read from its live record or from a plain snapshot of it.

The database writer runs in a process of its own (:mod:`parsl_monitoring.writer_process`), where
a ``TaskRecord`` cannot go: it holds futures, the app function and ``File`` objects. The
workflow process sends instead a snapshot, a flat tuple of the record's plain values made by
:func:`task_snapshot` once per task per batch. The writer reads either form through the
functions here: :func:`task_values` (the ``task`` row), :func:`record_return` (a try's return
columns) and :func:`executor_of`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from itertools import repeat
from operator import attrgetter
from typing import Any

from parsl.data_provider.files import File

__all__ = [
    "NEW_FIELDS",
    "PLAIN_FIELDS",
    "executor_of",
    "new_snapshot",
    "plain_snapshots",
    "record_return",
    "task_snapshot",
    "task_values",
    "with_return_time",
]

logger = logging.getLogger("parsl.monitoring.writer")

#: the ``task`` columns a snapshot starts with, in its order
_TASK_COLUMNS = (
    "task_func_name",
    "task_memoize",
    "task_hashsum",
    "task_depends",
    "task_inputs",
    "task_outputs",
    "task_stdin",
    "task_stdout",
    "task_stderr",
    "task_time_invoked",
    "task_time_returned",
    "task_fail_count",
    "task_fail_cost",
)
_N_TASK = len(_TASK_COLUMNS)
# after them: the executor's label, the failure history and the joined futures (text or None)
_EXECUTOR, _FAIL_HISTORY, _JOINS = _N_TASK, _N_TASK + 1, _N_TASK + 2
#: the keyword arguments that name files or streams (most tasks have none of them)
_FILE_KWARGS = frozenset(("inputs", "outputs", "stdin", "stdout", "stderr"))


#: a plain task's snapshot: these record fields' values, as the record holds them
PLAIN_FIELDS = (
    "func_name",
    "memoize",
    "hashsum",
    "time_invoked",
    "time_returned",
    "fail_count",
    "fail_cost",
    "executor",
)
#: the length of a plain task's snapshot (see :func:`task_snapshot`)
_N_PLAIN = len(PLAIN_FIELDS)
#: where a plain snapshot holds the task's return time
_PLAIN_RETURNED = PLAIN_FIELDS.index("time_returned")


def with_return_time(snapshot: tuple[Any, ...], returned: float) -> tuple[Any, ...]:
    """A plain snapshot with its return time set (read before the task returned)."""
    return (*snapshot[:_PLAIN_RETURNED], returned, *snapshot[_PLAIN_RETURNED + 1 :])


_plain_values = attrgetter(*PLAIN_FIELDS)


#: what the workflow process sends of a new plain task, after its id: the rest of its plain
#: snapshot is the same for every such task (not memoized, no hash, not returned yet, no
#: failure; its return time comes with its final event)
NEW_FIELDS = ("func_name", "time_invoked", "executor")


def new_snapshot(func_name: str, time_invoked: float, executor: str) -> tuple[Any, ...]:
    """The plain snapshot of a new plain task (see :data:`NEW_FIELDS`)."""
    return (func_name, False, None, time_invoked, None, 0, 0.0, executor)


def plain_snapshots(flat: list[Any]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """``(task id, plain snapshot)`` pairs from a flat list of new plain tasks' ids, each
    followed by its :data:`NEW_FIELDS` values (how the workflow process sends them)."""
    step = len(NEW_FIELDS) + 1
    names, invoked, executors = (flat[i::step] for i in range(1, step))
    snapshots = zip(
        names, repeat(False), repeat(None), invoked, repeat(None), repeat(0), repeat(0.0), executors
    )
    return zip(flat[::step], snapshots)  # noqa: B905


def task_snapshot(task: Any, depends: Any) -> tuple[Any, ...]:
    """The plain values of ``task`` (a TaskRecord) the writer needs, as one flat tuple.

    Most tasks have no keyword arguments, dependencies, failed tries or joined futures: theirs
    is 8 values as the record holds them (half the values to read and pickle per task and
    batch); the others' is the 16 columns' values, turned into the text the writer stores.
    """
    kwargs = task.kwargs
    history = task.fail_history
    joins = task.joins
    if not kwargs and not depends and history is None and joins is None:
        return _plain_values(task)
    if kwargs and not _FILE_KWARGS.isdisjoint(kwargs):
        inputs, outputs, stdin, stdout, stderr = _file_texts(kwargs)
    else:
        inputs = outputs = None
        stdin = stdout = stderr = ""
    return (
        task.func_name,
        "True" if task.memoize else "False",
        task.hashsum,
        _depends_text(depends) if depends else "",
        inputs,
        outputs,
        stdin,
        stdout,
        stderr,
        task.time_invoked,
        task.time_returned,
        task.fail_count,
        float(task.fail_cost or 0.0),
        task.executor,
        ",".join([str(f) for f in history]) if history else None,
        None if joins is None else _ids(joins),
    )


def task_values(task: Any, depends: Any) -> dict[str, Any]:
    """The ``task`` row's columns (without its keys) from a record or a snapshot."""
    if type(task) is tuple:
        if len(task) == _N_PLAIN:  # the long form's columns: no files, no dependencies
            name, memoize, hashsum, invoked, returned, fail_count, fail_cost, _ = task
            memo = "True" if memoize else "False"
            task = (
                name,
                memo,
                hashsum,
                "",
                None,
                None,
                "",
                "",
                "",
                invoked,
                returned,
                fail_count,
                float(fail_cost or 0.0),
            )
        return dict(zip(_TASK_COLUMNS, task[:_N_TASK]))  # noqa: B905 (a snapshot is longer)
    kwargs = task.kwargs
    if kwargs:
        inputs, outputs, stdin, stdout, stderr = _file_texts(kwargs)
    else:  # most tasks: nothing to name
        inputs = outputs = None
        stdin = stdout = stderr = ""
    return {
        "task_depends": _depends_text(depends) if depends else "",
        "task_func_name": task.func_name,
        "task_memoize": "True" if task.memoize else "False",
        "task_hashsum": task.hashsum,
        "task_inputs": inputs,
        "task_outputs": outputs,
        "task_stdin": stdin,
        "task_stdout": stdout,
        "task_stderr": stderr,
        "task_time_invoked": task.time_invoked,
        "task_time_returned": task.time_returned,
        "task_fail_count": task.fail_count,
        "task_fail_cost": float(task.fail_cost or 0.0),
    }


def record_return(trow: dict[str, Any], task: Any, ts: float) -> None:
    """Fill a try row's return time, failure history and joined futures from a record or snapshot."""
    trow["task_try_time_returned"] = ts
    if type(task) is tuple:
        if len(task) == _N_PLAIN:  # no failed try, no joined futures
            return
        if task[_FAIL_HISTORY] is not None:
            trow["task_fail_history"] = task[_FAIL_HISTORY]
        if task[_JOINS] is not None:
            trow["task_joins"] = task[_JOINS]
        return
    if task.fail_history:
        trow["task_fail_history"] = ",".join(str(f) for f in task.fail_history)
    if task.joins is not None:
        trow["task_joins"] = _ids(task.joins)


def executor_of(task: Any) -> str:
    """The label of the executor a record or snapshot's task runs on."""
    if type(task) is tuple:
        return task[-1] if len(task) == _N_PLAIN else task[_EXECUTOR]
    return task.executor


def _depends_text(depends: Any) -> str:
    dep_ids = sorted({f.tid for f in depends if getattr(f, "tid", None) is not None})
    return ",".join(str(t) for t in dep_ids)


def _file_texts(kwargs: dict[str, Any]) -> tuple[str | None, str | None, str, str, str]:
    outputs = kwargs.get("outputs")
    inputs = kwargs.get("inputs")
    return (
        str(inputs) if inputs else None,
        str([getattr(o, "filepath", o) for o in outputs]) if outputs else None,
        _stream(kwargs.get("stdin")),
        _stream(kwargs.get("stdout")),
        _stream(kwargs.get("stderr")),
    )


def _ids(futures: Any) -> str | None:
    if futures is None:
        return None
    if not isinstance(futures, (list, tuple)):
        futures = [futures]
    ids = [str(getattr(f, "tid", None)) for f in futures if getattr(f, "tid", None) is not None]
    return ",".join(ids)


def _stream(v: Any) -> str:
    """How Parsl records a stdout/stderr spec: "" for none, a File's URL, else the path (str)."""
    if v is None:
        return ""
    if isinstance(v, File):
        return v.url
    if isinstance(v, tuple) and len(v) == 2:
        v = v[0]
    if isinstance(v, File):
        return v.url
    if isinstance(v, (str, bytes, os.PathLike)):
        try:
            return os.fsdecode(v)
        except (TypeError, ValueError) as e:  # a PathLike whose __fspath__ returns no path
            logger.warning("Monitoring cannot name the stream %r (%s); recorded as ''", v, e)
            return ""
    logger.warning("Monitoring cannot name the stream %r; recorded as ''", v)
    return ""
