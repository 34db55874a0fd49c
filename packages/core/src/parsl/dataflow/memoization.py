"""Memoization and checkpointing (``parsl.dataflow.memoization``).

A task is identified by a hash of its function's identity (module, name and source) and
its resolved arguments. ``id_for_memo`` turns each argument into bytes and can be extended
for user types with ``@id_for_memo.register(MyType)``. Results are kept in memory and,
depending on the checkpoint mode, appended to ``<run_dir>/checkpoint/tasks.pkl``.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from parsl.dataflow.errors import BadCheckpoint
from parsl.errors import ConfigurationError
from parsl.utils import RepresentationMixin, Timer

if TYPE_CHECKING:
    from parsl.dataflow.dflow import DataFlowKernel
    from parsl.dataflow.taskrecord import TaskRecord

__all__ = ["CHECKPOINT_MODES", "BasicMemoizer", "Memoizer", "id_for_memo", "make_hash"]

logger = logging.getLogger(__name__)

#: when results are written to the checkpoint file; None writes none
CHECKPOINT_MODES = (None, "task_exit", "periodic", "dfk_exit", "manual")


def checkpoint_mode_choices() -> str:
    """The checkpoint modes as an error message lists them: ``'task_exit', ... or None``."""
    return ", ".join(repr(m) for m in CHECKPOINT_MODES if m is not None) + " or None"


@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Bytes identifying ``obj`` for memoization; register more types with ``.register``."""
    raise ValueError(
        f"unknown type for memoization: {type(obj).__module__}.{type(obj).__qualname__}. "
        f"Register it with @parsl.dataflow.memoization.id_for_memo.register({type(obj).__name__}) "
        f"or list the argument in ignore_for_cache="
    )


@id_for_memo.register(str)
@id_for_memo.register(int)
@id_for_memo.register(float)
@id_for_memo.register(complex)
@id_for_memo.register(bool)
@id_for_memo.register(bytes)
@id_for_memo.register(type(None))
def _id_plain(obj: Any, output_ref: bool = False) -> bytes:
    return pickle.dumps(obj)


@id_for_memo.register(list)
@id_for_memo.register(tuple)
def _id_seq(obj: Sequence[Any], output_ref: bool = False) -> bytes:
    return pickle.dumps((type(obj).__name__, [id_for_memo(x, output_ref) for x in obj]))


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _id_set(obj: Any, output_ref: bool = False) -> bytes:
    return pickle.dumps(("set", sorted(id_for_memo(x, output_ref) for x in obj)))


@id_for_memo.register(dict)
def _id_dict(obj: dict[Any, Any], output_ref: bool = False) -> bytes:
    items = sorted((id_for_memo(k, output_ref), id_for_memo(v, output_ref)) for k, v in obj.items())
    return pickle.dumps(("dict", items))


def _register_file() -> None:
    from parsl.data_provider.files import File

    @id_for_memo.register(File)
    def _id_file(obj: File, output_ref: bool = False) -> bytes:
        return pickle.dumps(("File", obj.url))


_register_file()

# A function's identity, computed once (reading its source is slow). Held weakly: a workflow
# that makes functions as it goes (lambdas, closures, bound methods) must not keep each of
# them, and what they reference, alive for the life of the process.
_fn_ids: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


def _function_identity(func: Any) -> bytes:
    """Hash of a function's module, qualified name and source (of what it wraps, if anything)."""
    key = getattr(func, "__wrapped__", func)
    try:
        cached = _fn_ids.get(key)
    except TypeError:  # cannot be weakly referenced (a builtin) or hashed: computed each time
        cached = None
    if cached is not None:
        return cached
    name = f"{getattr(key, '__module__', '?')}.{getattr(key, '__qualname__', repr(key))}"
    try:
        src = inspect.getsource(key)
    except (OSError, TypeError):
        src = ""
    ident = hashlib.sha256((name + "\n" + src).encode()).digest()
    try:
        _fn_ids[key] = ident
    except TypeError:
        pass
    return ident


def make_hash(task: TaskRecord) -> str:
    """The memoization key of a task with resolved arguments."""
    ignore = task.ignore_for_cache or ()
    kwargs = {k: v for k, v in task.kwargs.items() if k not in ignore}
    parts = [_function_identity(task.func), id_for_memo(list(task.args)), id_for_memo(kwargs)]
    return hashlib.md5(b"".join(parts)).hexdigest()


class Memoizer:
    """The interface the DataFlowKernel uses for memoization and checkpointing."""

    def start(
        self, *, dfk: DataFlowKernel, memoize: bool, checkpoint_files: Sequence[str] | None, run_dir: str
    ) -> None:
        """Prepare for a run: load previous checkpoints."""

    def check_memo(self, task: TaskRecord) -> Future[Any] | None:
        """Return a completed future for a task seen before, or None."""
        return None

    def update_memo(self, task: TaskRecord, r: Future[Any]) -> None:
        """Record the outcome of a finished task."""

    def checkpoint(self, tasks: Sequence[TaskRecord] | None = None) -> str:
        """Write outstanding results to the checkpoint; return the checkpoint directory."""
        return ""

    def close(self) -> None:
        """Flush and stop at DataFlowKernel cleanup."""


class BasicMemoizer(Memoizer, RepresentationMixin):
    """In-memory memo table plus an append-only checkpoint file.

    ``checkpoint_mode``: ``'task_exit'`` (write after every task), ``'periodic'`` (every
    ``checkpoint_period`` "HH:MM:SS"), ``'dfk_exit'`` (at cleanup), ``'manual'``
    (``dfk.checkpoint()``) or None. ``checkpoint_files`` lists checkpoint directories of
    earlier runs to restore from (see ``parsl.utils.get_all_checkpoints``); left unset, every
    checkpoint under the Config's ``run_dir`` is restored, and ``[]`` restores none.
    """

    def __init__(
        self,
        *,
        checkpoint_files: Sequence[str] | None = None,
        checkpoint_period: str | None = None,
        checkpoint_mode: str | None = None,
        memoize: bool = True,
    ) -> None:
        if checkpoint_mode not in CHECKPOINT_MODES:
            raise ConfigurationError(
                f"BasicMemoizer(checkpoint_mode={checkpoint_mode!r}): use {checkpoint_mode_choices()}"
            )
        self.checkpoint_files = list(checkpoint_files) if checkpoint_files is not None else None
        self.checkpoint_period = checkpoint_period
        self.checkpoint_mode = checkpoint_mode
        self.memoize = memoize
        self._table: dict[str, Future[Any]] = {}
        self._unwritten: list[tuple[str, Any]] = []
        #: hashes queued for (or written to) this run's checkpoint
        self._written: set[str] = set()
        self._lock = threading.Lock()
        self._run_dir = ""
        self._timer: Timer | None = None
        #: built by the DataFlowKernel from 0.9-era Config(checkpoint_*=) fields
        self._from_config = False

    def start(
        self, *, dfk: DataFlowKernel, memoize: bool, checkpoint_files: Sequence[str] | None, run_dir: str
    ) -> None:
        self.memoize = self.memoize and memoize
        self._run_dir = run_dir
        self._written = set()  # a memoizer reused by a new DataFlowKernel starts a new checkpoint
        if self.checkpoint_files is not None:
            files: Sequence[str] | None = self.checkpoint_files
        elif self._from_config:
            files = checkpoint_files  # 0.9-era Config(checkpoint_files=): None restores nothing
        else:
            from parsl.utils import get_all_checkpoints

            files = get_all_checkpoints(os.path.dirname(os.path.abspath(run_dir)))
        if files:
            self._table.update(self.load_checkpoints(files))
        if self.checkpoint_mode == "periodic":
            h, m, s = (int(x) for x in (self.checkpoint_period or "00:30:00").split(":"))
            self._timer = Timer(self.checkpoint, interval=h * 3600 + m * 60 + s, name="parsl-checkpoint")

    @staticmethod
    def load_checkpoints(dirs: Sequence[str]) -> dict[str, Future[Any]]:
        table: dict[str, Future[Any]] = {}
        for d in dirs:
            path = os.path.join(d, "tasks.pkl")
            try:
                f = open(path, "rb")
            except FileNotFoundError:
                logger.warning("Checkpoint %s not found; skipping it", path)
                continue
            with f:
                while True:
                    try:
                        entry = pickle.load(f)
                    except EOFError:
                        break
                    except Exception as e:  # a torn last record from a killed run: keep what we have
                        if f.read(1):
                            raise BadCheckpoint(f"Checkpoint {path} is corrupt: {e}") from e
                        break
                    fut: Future[Any] = Future()
                    fut.set_result(entry["result"])
                    table[entry["hash"]] = fut
        return table

    def check_memo(self, task: TaskRecord) -> Future[Any] | None:
        if not (self.memoize and task.memoize):
            task.hashsum = None
            return None
        task.hashsum = h = make_hash(task)
        hit = self._table.get(h)
        if (
            hit is not None
            and self.checkpoint_mode is not None
            and h not in self._written
            and hit.exception() is None
        ):
            # a result restored from an older run goes into this run's checkpoint too, so
            # restoring from only the latest checkpoint never loses it
            with self._lock:
                self._written.add(h)
                self._unwritten.append((h, hit.result()))
            if self.checkpoint_mode == "task_exit":
                self._write_checkpoint(quiet=True)
        return hit

    def update_memo(self, task: TaskRecord, r: Future[Any]) -> None:
        if not (self.memoize and task.memoize) or task.hashsum is None or task.from_memo:
            return
        self._table[task.hashsum] = r
        if r.exception() is None and self.checkpoint_mode is not None:
            with self._lock:
                self._written.add(task.hashsum)
                self._unwritten.append((task.hashsum, r.result()))
            if self.checkpoint_mode == "task_exit":
                self._write_checkpoint(quiet=True)

    def checkpoint(self, tasks: Sequence[TaskRecord] | None = None) -> str:
        """Write the results of ``tasks``, or with None every outstanding result.

        A given task is written when it completed successfully with a memo entry and is not in
        this run's checkpoint yet, whatever the checkpoint mode; the others are skipped.
        """
        return self._write_checkpoint(quiet=False, tasks=tasks)

    def _take_results(self, tasks: Sequence[TaskRecord]) -> list[tuple[str, Any]]:
        """Remove the named tasks' results from the outstanding ones and return them (lock held)."""
        outstanding = dict(self._unwritten)
        taken: dict[str, Any] = {}
        for task in tasks:
            h = task["hashsum"]
            fut = self._table.get(h) if h else None
            if fut is None or not fut.done() or fut.exception() is not None:
                logger.debug("Task %s has no successful result to checkpoint", task["id"])
            elif h in outstanding or h not in self._written:
                taken[h] = fut.result()
        if taken:
            self._unwritten = [(h, res) for h, res in self._unwritten if h not in taken]
            self._written.update(taken)
        return list(taken.items())

    def _write_checkpoint(self, quiet: bool, tasks: Sequence[TaskRecord] | None = None) -> str:
        """Append outstanding results to ``tasks.pkl`` and fsync them before returning.

        Records are appended whole and fsync'd (and the directory entry too when the file is
        new), so after a crash the file holds every record written before the crash plus at
        most one torn record at its end, which ``load_checkpoints`` ignores.
        """
        # quiet (DEBUG) for the per-task writes of task_exit mode; INFO otherwise
        log = logger.debug if quiet else logger.info
        ck_dir = os.path.join(self._run_dir, "checkpoint")
        with self._lock:
            if tasks is None:
                pending, self._unwritten = self._unwritten, []
            else:
                pending = self._take_results(tasks)
            if not pending:
                log("No tasks checkpointed in this pass")
                if os.path.isdir(ck_dir):
                    return ck_dir
            path = os.path.join(ck_dir, "tasks.pkl")
            new_file = not os.path.exists(path)
            if new_file:
                os.makedirs(ck_dir, exist_ok=True)
            blob = b"".join(pickle.dumps({"hash": h, "exception": None, "result": res}) for h, res in pending)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(blob)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if new_file:
                _fsync_dir(ck_dir)
                _fsync_dir(self._run_dir)
        if pending:
            log("Done checkpointing %d tasks to %s", len(pending), ck_dir)
        return ck_dir

    def close(self) -> None:
        if self._timer is not None:
            self._timer.close()
        if self.checkpoint_mode is not None:  # manual too, as current Parsl does
            self.checkpoint()


def _fsync_dir(path: str) -> None:
    """Make a new directory entry durable (a crash could otherwise lose the new file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
