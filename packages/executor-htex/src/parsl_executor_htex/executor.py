"""``HighThroughputExecutor``: the workflow side of HTEX.

``submit`` serializes the arguments (the function only once, cached by identity) and writes
the task to the interchange itself, from the calling thread: no thread hand-off. A receiver
thread completes futures from the result batches coming back. Blocks of worker pools are
launched through the provider (see ``parsl.executors.status_handling``).

The interchange is our child process on this host: tasks go to it down its stdin pipe and
results come back up its stdout pipe (``messages.FrameWriter`` / ``FrameReader``), so a
message costs one process wake-up, not three as through ZeroMQ's I/O threads. Writes never
block: what the pipe cannot take now waits in the writer and the sender thread finishes it
when the pipe drains, so a done-callback that submits (a chain) from the receiver thread
cannot deadlock against results that are still flowing. Commands (``connected_managers``...)
use a REQ socket on an ``ipc://`` endpoint in a private 0700 directory.
"""

from __future__ import annotations

import atexit
import ipaddress
import itertools
import logging
import math
import os
import pickle
import queue
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import zmq

from parsl.dataflow.lightfuture import LightFuture
from parsl.executors.errors import BadStateException, InvalidResourceSpecification
from parsl.executors.status_handling import BlockProviderExecutor
from parsl.jobs.states import JobState, JobStatus
from parsl.utils import RepresentationMixin
from parsl_executor_htex import messages as m
from parsl_executor_htex.errors import CommandClientBadError, CommandClientTimeoutError, InterchangeStartError
from parsl_executor_htex.manager_selector import ManagerSelector, RandomManagerSelector
from parsl_executor_htex.serialize import BIG, FunctionCache, dumps, dumps_args, submit_error, unpack_result

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_INTERCHANGE_LAUNCH_CMD", "DEFAULT_LAUNCH_CMD", "HighThroughputExecutor"]

#: the worker pool command, as in Parsl: ``str.format`` fields filled at ``start()``, then
#: ``{block_id}`` per block (``{ipc_host}`` is ours, see ``_local_pools``). A leading
#: ``process_worker_pool.py`` is run as ``<this interpreter> -m parsl_executor_htex.process_worker_pool``
#: so blocks need no PATH set up (a batch job's PATH rarely holds an unactivated environment).
DEFAULT_LAUNCH_CMD = (
    "process_worker_pool.py {debug} {max_workers_per_node} "
    "-a {addresses} -p {prefetch_capacity} -c {cores_per_worker} -m {mem_per_worker} "
    "--poll {poll_period} --port={worker_port} --cert_dir {cert_dir} --logdir={logdir} "
    "--logconf={logconf} --block_id={{block_id}} --hb_period={heartbeat_period} "
    "{address_probe_timeout_string} {ipc_host} "
    "--hb_threshold={heartbeat_threshold} --drain_period={drain_period} "
    "--cpu-affinity {cpu_affinity} {enable_mpi_mode} --mpi-launcher={mpi_launcher} "
    "--available-accelerators {accelerators}"
)

#: the interchange command, as in Parsl; left as it is, it runs our interchange with this
#: interpreter (``python -m parsl_executor_htex.interchange``), whatever PATH holds
DEFAULT_INTERCHANGE_LAUNCH_CMD = ["interchange.py"]
_POOL_SCRIPT = "process_worker_pool.py"

#: with interchange recovery on, the interchange records the tasks it gives pools in
#: ``<ipc_dir>/dispatched.<n>`` (the n-th interchange of this executor; 8 bytes per task id)
DISPATCH_FILE = "dispatched"
_IPC_PATH_MAX = 100  # a unix socket path must fit in sockaddr_un (108 bytes with the NUL)


class HighThroughputExecutor(BlockProviderExecutor, RepresentationMixin):
    """Run tasks on pools of worker processes, one pool per node, through an interchange.

    Parameters keep Parsl's names and meanings: ``provider`` (default ``LocalProvider()``)
    supplies blocks; ``max_workers_per_node`` / ``cores_per_worker`` / ``mem_per_worker`` /
    ``available_accelerators`` size each pool; ``prefetch_capacity`` lets pools hold extra
    tasks; ``heartbeat_period`` / ``heartbeat_threshold`` detect lost pools; ``encrypted``
    (default True) turns on CurveZMQ. ``parsl_resource_specification={'priority': n}`` orders
    queued tasks (lower first).

    ``interchange_restarts`` (default 3) and ``interchange_restart_window`` (seconds, default
    60) bound recovery from a lost interchange: when it dies (a signal, an OOM kill) the executor
    starts a new one on the same ports and socket paths, worker pools register with it again,
    tasks it still queued are resubmitted, and tasks a pool held fail with ``InterchangeLost``
    (one try: the DataFlowKernel retries them if ``retries`` allow). Past that many restarts
    within the window, outstanding tasks fail with ``BadStateException`` instead.
    ``interchange_restarts=0`` turns recovery off (and with it, keeping each task's serialized
    arguments until its result for resubmission).
    """

    PLUGIN_NAME = "htex"
    #: the dotted name Parsl users know this class by (the kernel logs it when starting one)
    PARSL_PUBLIC_PATH = "parsl.executors.high_throughput.executor.HighThroughputExecutor"

    def __init__(
        self,
        label: str = "HighThroughputExecutor",
        provider: Any = None,
        launch_cmd: str | None = None,
        interchange_launch_cmd: Sequence[str] | None = None,
        address: str | None = None,
        loopback_address: str = "127.0.0.1",
        worker_port: int | None = None,
        worker_ports: tuple[int, int] | None = None,
        worker_port_range: tuple[int, int] | None = (54000, 55000),
        interchange_port_range: tuple[int, int] | None = (55000, 56000),
        storage_access: list[Any] | None = None,
        working_dir: str | None = None,
        worker_debug: bool = False,
        cores_per_worker: float = 1.0,
        mem_per_worker: float | None = None,
        max_workers_per_node: float | None = None,
        cpu_affinity: str = "none",
        available_accelerators: int | Sequence[str] = (),
        prefetch_capacity: int = 0,
        heartbeat_threshold: int = 120,
        heartbeat_period: int = 30,
        drain_period: int | None = None,
        poll_period: int = 10,
        address_probe_timeout: int | None = None,
        worker_logdir_root: str | None = None,
        manager_selector: ManagerSelector | None = None,
        block_error_handler: bool | Callable[..., None] = True,
        encrypted: bool = True,
        max_workers: float | None = None,
        enable_mpi_mode: bool = False,
        mpi_launcher: str = "mpiexec",
        remote_monitoring_radio: Any = None,
        interchange_restarts: int = 3,
        interchange_restart_window: float = 60.0,
    ):
        if provider is None:
            from parsl.providers import LocalProvider

            provider = LocalProvider()
        super().__init__(provider=provider, block_error_handler=block_error_handler, label=label)
        if max_workers is not None:
            warnings.warn(
                "max_workers is deprecated; use max_workers_per_node", DeprecationWarning, stacklevel=2
            )
            if max_workers_per_node is None:
                max_workers_per_node = max_workers
        if max_workers_per_node is not None and max_workers_per_node <= 0:
            raise ValueError(f"max_workers_per_node={max_workers_per_node!r}: use a positive number")
        if cores_per_worker <= 0:
            raise ValueError(f"cores_per_worker={cores_per_worker!r}: use a positive number")
        if isinstance(interchange_restarts, bool) or not isinstance(interchange_restarts, int):
            raise TypeError(
                f"interchange_restarts={interchange_restarts!r}: use an int, how many times a lost "
                f"interchange may be restarted within interchange_restart_window (0 turns it off)"
            )
        if interchange_restarts < 0:
            raise ValueError(
                f"interchange_restarts={interchange_restarts!r}: use 0 (no restart) or a positive count"
            )
        if (
            isinstance(interchange_restart_window, bool)
            or not isinstance(interchange_restart_window, (int, float))
            or not interchange_restart_window > 0
        ):
            raise ValueError(
                f"interchange_restart_window={interchange_restart_window!r}: use a positive number of "
                f"seconds (at most interchange_restarts restarts happen within that many seconds)"
            )
        self.interchange_restarts = interchange_restarts
        self.interchange_restart_window = float(interchange_restart_window)
        if isinstance(available_accelerators, int):
            available_accelerators = [str(i) for i in range(available_accelerators)]
        self.launch_cmd = launch_cmd or DEFAULT_LAUNCH_CMD
        self.interchange_launch_cmd = interchange_launch_cmd or list(DEFAULT_INTERCHANGE_LAUNCH_CMD)
        self._composed_cmd: str | None = None  # launch_cmd as start() filled it in
        #: False accepts worker pools whose Python or parsl-executor-htex version differs (Parsl's
        #: switch, which engines that run pools in other environments turn off)
        self._check_python_mismatch = True
        # recorded (default HTEXRadio(), as in Parsl); telemetry from workers travels over HTEX's
        # own connection to the interchange whatever the radio
        if remote_monitoring_radio is None:
            from parsl.monitoring.radios.htex import HTEXRadio

            remote_monitoring_radio = HTEXRadio()
        self.remote_monitoring_radio = remote_monitoring_radio
        self.address = address
        self.loopback_address = loopback_address
        if worker_port is not None and worker_ports is None:
            worker_ports = (worker_port, worker_port)  # Parsl's name: the one port pools connect to
        self.worker_port = worker_port
        self.worker_ports = worker_ports
        self.worker_port_range = worker_port_range
        self.interchange_port_range = interchange_port_range
        self.storage_access = storage_access
        self.working_dir = working_dir
        self.worker_debug = worker_debug
        self.cores_per_worker = cores_per_worker
        self.mem_per_worker = mem_per_worker
        self.max_workers_per_node = math.inf if max_workers_per_node is None else max_workers_per_node
        self.cpu_affinity = cpu_affinity
        self.available_accelerators = list(available_accelerators)
        self.prefetch_capacity = prefetch_capacity
        self.heartbeat_threshold = heartbeat_threshold
        self.heartbeat_period = heartbeat_period
        self.drain_period = drain_period
        self.poll_period = poll_period
        self.address_probe_timeout = address_probe_timeout
        self.worker_logdir_root = worker_logdir_root
        self.manager_selector = manager_selector if manager_selector is not None else RandomManagerSelector()
        self.encrypted = encrypted
        self.enable_mpi_mode = enable_mpi_mode
        self.mpi_launcher = mpi_launcher
        if enable_mpi_mode:
            from parsl_executor_htex.mpi import check_launcher

            check_launcher(mpi_launcher)
        self.tasks: dict[int, Future] = {}
        #: per outstanding task: its function (kept alive until the result), or with recovery on
        #: (function or None, priority, payload), what a new interchange must be sent again
        self._funcs: dict[int, Any] = {}
        self._recovering = interchange_restarts > 0
        self._restarts: list[float] = []  # monotonic times of interchange restarts
        self._restarting = False  # between a lost interchange and its replacement: hold writes
        self._closing = False  # shutdown() began: an interchange exiting now is no loss
        #: with recovery on, the file where the current interchange records each task it gives a
        #: pool before it does (read only once it is lost: see _dispatched_tasks)
        self._dispatch_file: str | None = None
        self._generation = 0  # interchanges started: each writes its own dispatch file
        #: ids the dispatch file may hold beyond twice those pools hold, before the interchange
        #: rewrites it with only the latter (tests lower it)
        self._dispatch_log_slack = 10_000
        #: DISPATCHED messages of the current interchange, unread: what it tells us on its pipe
        #: instead once its dispatch file cannot be written (see _dispatched_tasks)
        self._dispatch_log: list[bytes] = []
        self._dispatch_logged = 0  # task ids in _dispatch_log
        self._held_blocks: set[str] = set()  # told to the interchange; a new one is told again
        self._blocks_seen: list[str] = []  # connected_blocks() as last read, for a new interchange
        self._ids = itertools.count(1)
        self._last_tid = 0  # the highest task id handed out (see _task_counter)
        self._fcache = FunctionCache()
        self._submit_lock = threading.Lock()  # held while writing to the interchange
        self._out: m.FrameWriter | None = None  # the interchange's stdin
        self._wake_sender: queue.SimpleQueue[bool | None] = queue.SimpleQueue()
        self._started = False
        self._stopped = False
        self._ix_proc: subprocess.Popen | None = None
        self._ctx: zmq.Context | None = None
        self._command: zmq.Socket | None = None
        self._command_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._ports: dict[str, int] = {}
        self.cert_dir: str | None = None
        self.ipc_dir: str | None = None
        self._own_ipc_dir = False
        self.logdir = "."

    @property
    def worker_logdir(self) -> str:
        """Where worker pools write their logs: ``worker_logdir_root/label``, or ``logdir``."""
        if self.worker_logdir_root is not None:
            return os.path.join(self.worker_logdir_root, self.label)
        return self.logdir

    @property
    def max_workers(self) -> int | float:
        return self.max_workers_per_node

    # ---------------------------------------------------------------- startup
    def start(self) -> None:
        """Start the interchange and connect to it. Launches no blocks: whoever drives the
        executor (the DataFlowKernel, or a program in its place) then calls
        ``scale_out_facade(provider.init_blocks)``."""
        if self._started:
            return
        self.logdir = os.path.join(os.path.abspath(self.run_dir), self.label)
        os.makedirs(self.logdir, exist_ok=True)
        if self.encrypted:
            from parsl_executor_htex.curve import create_certificates

            self.cert_dir = create_certificates(os.path.join(self.logdir, "certificates"))
        if self.cert_dir and len(self.cert_dir) + 20 < _IPC_PATH_MAX:
            self.ipc_dir = self.cert_dir
        else:  # no private folder, or its path is too long for a unix socket: a fresh 0700 one
            import tempfile

            self.ipc_dir = tempfile.mkdtemp(prefix="htex-")
            self._own_ipc_dir = True
        self._fill_launch_cmd({"workers": 0})  # a bad launch_cmd fails here, before any process starts
        self._start_interchange()
        self.worker_port = self._ports["workers"]  # as in Parsl: the port pools connect to
        self._connect()
        self._compose_launch_cmd()
        self._started = True
        me = weakref.ref(self)
        atexit.register(_shutdown_at_exit, me)
        for target, name in ((self._send_loop, "sender"), (self._receive_loop, "receiver")):
            t = threading.Thread(target=target, name=f"htex-{self.label}-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def _start_interchange(self, restart: bool = False) -> None:
        """Start the interchange and read its ports; ``restart``: bind the ports (and socket
        paths) of the one that was lost, so pools find the new one where the old one was."""
        worker_ports = self.worker_ports
        if restart:
            worker_ports = (self._ports["workers"], self._ports["workers"])
        self._generation += 1
        self._dispatch_file = (
            os.path.join(self.ipc_dir, f"{DISPATCH_FILE}.{self._generation}")
            if self._recovering and self.ipc_dir
            else None
        )
        config = {
            "loopback_address": self.loopback_address,
            "interchange_port_range": self.interchange_port_range,
            "worker_ports": worker_ports,
            "worker_port_range": self.worker_port_range,
            # as in Parsl, an address given limits where the worker port listens
            "worker_interface": _listen_interface(self.address),
            "heartbeat_period": self.heartbeat_period,
            "heartbeat_threshold": self.heartbeat_threshold,
            "poll_period": self.poll_period,
            "logdir": self.logdir,
            "debug": self.worker_debug,
            "manager_selector": self.manager_selector,
            "encrypted": self.encrypted,
            "cert_dir": self.cert_dir,
            "ipc_dir": self.ipc_dir,
            "worker_ipc": os.path.join(self.cert_dir, m.WORKER_IPC) if self._local_pools() else None,
            # an engine's queue learns which pool holds which tasks at every dispatch; the
            # DataFlowKernel's plugins get a pool's changes only (see parsl_executor_reported)
            "node_updates": self.monitoring_messages is not None and not callable(self.monitoring_messages),
            "check_versions": bool(self._check_python_mismatch),
            # with recovery on, which tasks a pool holds (see _recover): written to a file, which
            # wakes nobody; on the pipe only if there is no file
            "dispatch_log": self._dispatch_file,
            "dispatch_notices": self._recovering and self._dispatch_file is None,
            "dispatch_log_slack": self._dispatch_log_slack,
            "held_blocks": sorted(self._held_blocks),
            "block_history": list(self._blocks_seen),
        }
        cmd = self._interchange_command()
        err_path = os.path.join(self.logdir, "interchange.stderr")
        with open(err_path, "ab") as err:
            # its own session: a Ctrl-C in the terminal reaches the workflow, which shuts it down
            try:
                self._ix_proc = subprocess.Popen(
                    cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, start_new_session=True
                )
            except OSError as e:
                raise InterchangeStartError(
                    f"cannot run interchange_launch_cmd={cmd!r}: {e}; it must start "
                    f"parsl.executors.high_throughput.interchange (or leave it unset)"
                ) from e
        body = m.pack(config)
        assert self._ix_proc.stdin is not None and self._ix_proc.stdout is not None
        self._ix_proc.stdin.write(struct.pack("<Q", len(body)) + body)
        self._ix_proc.stdin.flush()
        line = self._read_ready_line(self._ix_proc, timeout=60)
        if not line.startswith("READY "):
            tail = _tail(err_path) or _tail(os.path.join(self.logdir, "interchange.log"))
            self._ix_proc.kill()
            self._ix_proc.wait()
            raise InterchangeStartError(f"the interchange failed to start: {line or 'no output'}\n{tail}")
        self._ports = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
        self._out = m.FrameWriter(self._ix_proc.stdin.fileno())
        logger.info("Interchange (pid %d) ports: %s", self._ix_proc.pid, self._ports)

    @staticmethod
    def _read_ready_line(proc: subprocess.Popen, timeout: float) -> str:
        import select

        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 1)  # byte by byte: what follows the line is the result stream
                if not chunk:
                    break
                buf += chunk
            elif proc.poll() is not None:
                break
        return buf.decode(errors="replace").strip()

    def _local_pools(self) -> bool:
        """Whether the worker pools run on this host, so they may use the local unix socket: the
        provider is a LocalProvider with the default launcher, no ``address`` was forced, and
        encryption is on (the endpoint lives in the 0700 certificate directory)."""
        if not (self.encrypted and self.cert_dir) or self.address:
            return False
        if len(os.path.join(self.cert_dir, m.WORKER_IPC)) >= _IPC_PATH_MAX:
            return False
        from parsl.launchers import SingleNodeLauncher
        from parsl.providers import LocalProvider

        launcher = getattr(self.provider, "launcher", None)
        return type(self.provider) is LocalProvider and (
            launcher is None or type(launcher) is SingleNodeLauncher
        )

    def _client(self, kind: int, name: str) -> zmq.Socket:
        assert self._ctx is not None
        sock = self._ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"ipc://{self.ipc_dir}/{name}")
        return sock

    def _connect(self) -> None:
        self._ctx = zmq.Context()
        self._command = self._client(zmq.REQ, "command")

    # ------------------------------------------------------------------ submit
    def submit(
        self,
        func: Callable[..., Any],
        resource_specification: dict[str, Any] | None,
        *args: Any,
        **kwargs: Any,
    ) -> Future:
        """Queue ``func(*args, **kwargs)``; return a Future for its result."""
        # the specification first, as in Parsl: a wrong one is reported even on a broken executor
        priority, mpi_spec = self._check_spec(resource_specification)
        if self._bad_state is not None:
            raise self._bad_state
        try:
            payload = dumps_args(args, kwargs)
        except Exception as e:
            raise submit_error(func, _culprit(args, kwargs), e) from e
        tid, fut, payload = self._new_task(payload, mpi_spec)
        # keeps the function (and its cache entry) alive until the result
        self._funcs[tid] = (func, priority, payload) if self._recovering else func
        with self._submit_lock:
            try:
                fid, fbytes, new = self._fcache.lookup(func)
            except Exception as e:
                del self.tasks[tid], self._funcs[tid]
                raise submit_error(func, "the function", e) from e
            try:
                self._send(
                    m.encode(m.TASKS, ([(tid, fid, priority)], {fid: fbytes} if new else {}, [payload]))
                )
            except BaseException:
                self._drop(tid)
                raise
            forgotten = self._fcache.forgotten
            if forgotten:
                fids = []
                while forgotten:
                    fids.append(forgotten.popleft())
                self._send(m.encode(m.FORGET, fids))
        return fut

    def _new_task(self, payload: Any, mpi_spec: dict[str, Any] | None) -> tuple[int, _TaskFuture, Any]:
        """A task id and its registered future; ``payload`` wrapped for MPI mode when it asks."""
        if mpi_spec is not None:
            from parsl_executor_htex.mpi import MPITask

            payload = MPITask(mpi_spec, payload)
        tid = next(self._ids)
        if tid > self._last_tid:
            self._last_tid = tid
        fut = _TaskFuture(self, tid)
        self.tasks[tid] = fut
        return tid, fut, payload

    def _check_spec(self, resource_specification: dict[str, Any] | None) -> tuple[Any, dict[str, Any] | None]:
        """``(priority, MPI specification)`` of a task; InvalidResourceSpecification if it is wrong."""
        if self.enable_mpi_mode:  # nodes and ranks per task (see mpi.py)
            from parsl_executor_htex.mpi import validate_resource_spec

            return None, validate_resource_spec(resource_specification)
        if not resource_specification:
            return None, None
        unknown = set(resource_specification) - {"priority"}
        if unknown:
            raise InvalidResourceSpecification(
                unknown,
                "HighThroughputExecutor only understands parsl_resource_specification={'priority': n}",
            )
        return resource_specification.get("priority"), None

    def validate_resource_spec(self, resource_specification: dict[str, Any] | None) -> Any:
        """Raise InvalidResourceSpecification unless a task may run with ``resource_specification``
        (``{'priority': n}``, or in MPI mode the nodes and ranks; the completed MPI one is returned)."""
        return self._check_spec(resource_specification)[1]

    def submit_payload(self, context: dict[str, Any], buffer: Any) -> Future:
        """Run bytes serialized by the caller: on a worker, ``f(buffer, *a, **k)`` for
        ``context["task_executor"] = {"f": "module.function", "a": (...), "k": {...}}`` (imported
        there by its dotted path), or without a ``task_executor``, the call packed in ``buffer`` by
        ``parsl.serialize.pack_apply_message``. ``context["resource_spec"]`` is checked as in
        :meth:`submit`. The future (with ``parsl_executor_task_id``) gets what ``f`` returns."""
        if self._bad_state is not None:
            raise self._bad_state
        if not isinstance(context, dict):
            raise TypeError(
                f"submit_payload: context must be a dict (e.g. {{'task_executor': {{'f': "
                f"'module.function'}}}}), not {type(context).__name__}"
            )
        spec = context.get("task_executor")
        if spec is not None and not (
            isinstance(spec, dict) and isinstance(spec.get("f"), str) and "." in spec["f"]
        ):
            raise ValueError(
                f"submit_payload: context['task_executor']={spec!r} must be a dict whose 'f' is "
                f"the dotted import path of a function (e.g. 'my_package.run_task'), with optional "
                f"'a' (a tuple of arguments) and 'k' (a dict of keyword arguments)"
            )
        priority, mpi_spec = self._check_spec(context.get("resource_spec"))
        if isinstance(buffer, (bytearray, memoryview)):
            buffer = bytes(buffer)
        # usually bytes; anything picklable is passed on as it is, as in Parsl
        payload: Any = m.PayloadTask(
            context, m.Blob(buffer) if type(buffer) is bytes and len(buffer) >= BIG else buffer
        )
        tid, fut, payload = self._new_task(payload, mpi_spec)
        if self._recovering:
            self._funcs[tid] = (None, priority, payload)
        with self._submit_lock:
            try:
                frames = m.encode(m.TASKS, ([(tid, m.PAYLOAD_FID, priority)], {}, [payload]))
            except Exception as e:
                self._drop(tid)
                raise submit_error(
                    (context.get("task_executor") or {}).get("f", "submit_payload"), "the context", e
                ) from e
            try:
                self._send(frames)
            except BaseException:
                self._drop(tid)
                raise
        return fut

    @property
    def _task_counter(self) -> int:
        """How many task ids were handed out (Parsl's attribute, read by engines)."""
        return self._last_tid

    @_task_counter.setter
    def _task_counter(self, value: int) -> None:
        self._last_tid = value
        self._ids = itertools.count(value + 1)

    def _send(self, frames: list[Any]) -> None:
        """Write one message to the interchange (under the submit lock); never blocks."""
        if self._restarting:  # the task waits in self._funcs: _recover sends it to the new one
            return
        out = self._out
        if out is None:
            raise BadStateException(self, "the executor is not connected to its interchange")
        waiting = bool(out.pending)
        try:
            out.send(frames)
        except OSError as e:  # the interchange is gone: the receiver thread reports it
            if self._recovering and self._bad_state is None:
                logger.debug("The interchange is gone (%s): the task waits for its replacement", e)
                return
            raise BadStateException(self, f"cannot reach the interchange: {e}") from e
        if out.pending and not waiting:
            self._wake_sender.put(True)

    def _send_loop(self) -> None:
        """Finish writes the interchange's stdin pipe could not take at once."""
        import select

        lock, wake = self._submit_lock, self._wake_sender
        while True:
            if wake.get() is None:
                return
            while True:
                with lock:
                    out = self._out  # a new writer after an interchange restart
                    if out is None:
                        break
                    try:
                        if out.flush():
                            break
                    except OSError:  # the interchange is gone: the receiver thread reports it
                        out.pending.clear()
                        break
                if self._stopped:
                    return
                try:
                    select.select([], [out.fd], [], 0.2)
                except (OSError, ValueError):  # closed by a restart: take the new writer
                    time.sleep(0.01)

    def _receive_loop(self) -> None:
        """Complete futures from the interchange's output; when it ends unasked, recover."""
        while not self._stopped:
            proc = self._ix_proc
            assert proc is not None and proc.stdout is not None
            reader = m.FrameReader(proc.stdout.fileno())
            while True:
                try:
                    messages = reader.read()
                except (EOFError, OSError, ValueError):
                    break
                if self.monitoring_messages is not None and len(messages) > 1:
                    # the pools' monitoring messages of every result message read: one batch,
                    # reported before any of those results are (one report, not one each)
                    telemetry = m.decode_all_telemetry([msg for msg, _ in messages])
                    if telemetry:
                        self.send_monitoring_messages(telemetry)
                    for msg, extra in messages:
                        self._on_message(msg, extra, telemetry_sent=True)
                else:
                    for msg, extra in messages:
                        self._on_message(msg, extra)
            if self._stopped or self._closing:
                return
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:  # it closed its stdout yet lives on: end it
                proc.kill()
                code = proc.wait()
            if self._closing or not self._recover(proc, code):
                return

    def _recover(self, proc: subprocess.Popen, code: int | None) -> bool:
        """The interchange ``proc`` died: start a new one on its ports, resubmit what it still
        queued, fail with InterchangeLost what it had dispatched. False if the executor gave up."""
        now = time.monotonic()
        window = self.interchange_restart_window
        self._restarts = [t for t in self._restarts if now - t < window]
        if not self._recovering or len(self._restarts) >= self.interchange_restarts:
            bound = (
                f" (restarted {len(self._restarts)} times in the last {window:g} s: "
                f"interchange_restarts={self.interchange_restarts})"
                if self._recovering
                else ""
            )
            self.set_bad_state_and_fail_all(
                BadStateException(
                    self,
                    f"the interchange exited unexpectedly with code {code}{bound}; "
                    f"see {self.logdir}/interchange.log",
                )
            )
            return False
        self._restarts.append(now)
        logger.warning(
            "Executor %s: the interchange (pid %d) exited with code %s; starting a new one on port %s",
            self.label,
            proc.pid,
            code,
            self._ports.get("workers"),
        )
        with self._submit_lock:
            self._restarting = True
            self._out = None
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError as e:
                logger.debug("Closing a pipe of the lost interchange: %s", e)
        lost_log = self._dispatch_file  # the dead one's: _start_interchange names a new one
        error: Exception | None = None
        for attempt in range(5):  # its port may take a moment to be free again
            try:
                self._start_interchange(restart=True)
                error = None
                break
            except Exception as e:
                error = e
                logger.debug("Restarting the interchange failed (attempt %d): %s", attempt + 1, e)
                time.sleep(0.2 * (attempt + 1))
        if error is not None:
            with self._submit_lock:
                self._restarting = False
            self.set_bad_state_and_fail_all(
                BadStateException(
                    self, f"the interchange exited with code {code} and could not be restarted: {error}"
                )
            )
            return False
        dispatched = self._dispatched_tasks(lost_log)
        lost: list[tuple[int, Future]] = []
        with self._submit_lock:
            tasks, funcs, lookup = self.tasks, self._funcs, self._fcache.lookup
            meta: list[tuple[int, int, Any]] = []
            payloads: list[Any] = []
            for tid in list(tasks):
                if tid in dispatched:
                    fut = tasks.pop(tid, None)
                    funcs.pop(tid, None)
                    if fut is not None:
                        lost.append((tid, fut))
                    continue
                entry = funcs.get(tid)
                if entry is None:  # its submit() has not stored it yet: it sends it itself
                    continue
                func, priority, payload = entry
                meta.append((tid, m.PAYLOAD_FID if func is None else lookup(func)[0], priority))
                payloads.append(payload)
            self._restarting = False
            self._send(m.encode(m.TASKS, ([], self._fcache.live(), [])))
            step = 2000
            for i in range(0, len(meta), step):
                self._send(m.encode(m.TASKS, (meta[i : i + step], {}, payloads[i : i + step])))
        logger.warning(
            "Executor %s: new interchange (pid %d) up; %d queued tasks resubmitted, %d tasks a worker "
            "pool held fail with InterchangeLost",
            self.label,
            self._ix_proc.pid if self._ix_proc else -1,
            len(meta),
            len(lost),
        )
        if lost:
            from parsl_executor_htex.errors import InterchangeLost

            for tid, fut in lost:
                if not fut.done():
                    fut.set_exception(InterchangeLost(self, tid, code))
        if self._closing:  # shutdown() began while we restarted: end the new one as it would
            new = self._ix_proc
            if new is not None and new.stdin is not None:
                try:
                    new.stdin.close()  # end of file: it stops its pools and exits
                except OSError as e:
                    logger.debug("Closing the new interchange's stdin: %s", e)
            return False
        return True

    def _dispatched_tasks(self, path: str | None) -> set[int]:
        """The outstanding tasks the lost interchange gave to a pool, from its dispatch file
        ``path`` (removed) and its DISPATCHED notices (forgotten)."""
        from array import array

        ids: set[int] = set()
        tasks = self.tasks
        if path is not None:
            try:
                with open(path, "rb") as f:
                    data = f.read()
                os.unlink(path)
            except FileNotFoundError:
                data = b""  # it could not make the file: its notices say it all
            except OSError as e:
                logger.warning("Cannot read the lost interchange's dispatch file %s: %s", path, e)
                data = b""
            tids = array("q")
            # a write cut short by its death ends in a partial id: that task was not sent yet
            tids.frombytes(data[: len(data) - len(data) % tids.itemsize])
            ids.update(t for t in tids if t in tasks)
        for msg in self._dispatch_log:
            tids = array("q")
            tids.frombytes(memoryview(msg)[1:])
            ids.update(t for t in tids if t in tasks)
        self._dispatch_log = []
        self._dispatch_logged = 0
        return ids

    def _note_dispatched(self, msg: bytes) -> None:
        """Keep a DISPATCHED notice; once they name many finished tasks, keep only outstanding ones."""
        self._dispatch_log.append(msg)
        self._dispatch_logged += (len(msg) - 1) // 8
        if self._dispatch_logged > 2 * len(self.tasks) + 10000:
            from array import array

            keep = array("q", self._dispatched_tasks(None))
            self._dispatch_log = [m.DISPATCHED + keep.tobytes()]
            self._dispatch_logged = len(keep)

    def _withdraw(self, tid: int) -> bool:
        """Take task ``tid`` back from the interchange if no worker pool has it yet."""
        if tid not in self.tasks or self._stopped or self._bad_state is not None:
            return False
        try:
            ok = bool(self._command_call("cancel", tid, timeout=5))
        except Exception:
            logger.debug("Could not withdraw task %s", tid, exc_info=True)
            return False
        if ok:
            self._drop(tid)
        return ok

    def _on_message(self, msg: Any, extra: list[Any] | None, telemetry_sent: bool = False) -> None:
        tasks, funcs = self.tasks, self._funcs
        tag = msg[:1]
        if tag == m.RESULTS:
            if self.monitoring_messages is not None and not telemetry_sent:
                # the pool's monitoring messages since its last results (tasks' "running
                # ended" among them): one batch, reported before the results are
                telemetry = m.decode_telemetry(msg)
                if telemetry:
                    self.send_monitoring_messages(telemetry)
            tids, payloads = m.decode_results(msg, extra)
            for tid, frame in zip(tids, payloads, strict=True):
                fut = tasks.pop(tid, None)
                funcs.pop(tid, None)
                if fut is None:
                    logger.debug("Dropping a result for task %d: it is no longer outstanding", tid)
                    continue
                try:
                    ok, value = unpack_result(frame)
                except Exception as e:
                    from parsl.executors.errors import DeserializationError

                    err = DeserializationError(f"result of task {tid}: {type(e).__name__}: {e}")
                    err.__cause__ = e
                    ok, value = False, err
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)
        elif tag == m.DISPATCHED:
            self._note_dispatched(msg)
        elif tag == m.MONITOR:
            if self.monitoring_messages is not None:
                batch: list[dict[str, Any]] = []
                for body in m.decode(msg, extra):
                    batch.extend(pickle.loads(body))
                self.send_monitoring_messages(batch)
        elif tag == m.ERROR:
            self.set_bad_state_and_fail_all(m.decode(msg, extra))

    def _drop(self, tid: int) -> Future | None:
        """Forget task ``tid`` (its future and what resubmitting it would need); return its future."""
        self._funcs.pop(tid, None)
        return self.tasks.pop(tid, None)

    def _fail_all(self, exception: BaseException) -> None:
        for tid in list(self.tasks):
            fut = self._drop(tid)
            if fut is not None and not fut.done():
                fut.set_exception(exception)

    # --------------------------------------------------------------- commands
    def _command_call(self, name: str, *args: Any, timeout: float = 10) -> Any:
        with self._command_lock:
            sock = self._command
            if sock is None:
                raise CommandClientBadError(f"executor {self.label} has no connection to its interchange")
            sock.send(m.pack((name, args)))
            if not sock.poll(int(timeout * 1000)):
                # a REQ socket that missed its reply cannot be used again: replace it
                sock.close(linger=0)
                self._command = self._client(zmq.REQ, "command")
                raise CommandClientTimeoutError(f"the interchange did not answer {name!r} in {timeout} s")
            reply = m.unpack(sock.recv())
        if isinstance(reply, Exception):
            raise reply
        return reply

    def connected_managers(self) -> list[dict[str, Any]]:
        """One dict per connected worker pool: manager, block_id, hostname, worker_count, tasks, ..."""
        return self._command_call("connected_managers")

    @property
    def connected_workers(self) -> int:
        return self._command_call("connected_workers")

    def connected_blocks(self) -> list[str]:
        """Every block a worker pool ever connected from, whether it is still connected or not
        (as in Parsl: a block scaled in stays in the list)."""
        blocks = self._command_call("connected_blocks")
        self._blocks_seen = blocks  # a replacement interchange starts from this history
        return blocks

    @property
    def command_client(self) -> Any:
        """Parsl's command channel: ``command_client.run("MANAGERS")`` and the other commands
        Parsl's interchange answers (see ``parsl_executor_htex.command_client``)."""
        from parsl_executor_htex.command_client import CommandClient

        return CommandClient(self)

    def hold_worker(self, worker_id: str) -> bool:
        """Send no more tasks to the worker pool (manager) ``worker_id``."""
        return self._command_call("hold_worker", worker_id)

    @property
    def outstanding(self) -> _Count:
        """Tasks submitted and not finished: an int (``ex.outstanding``) that Parsl's spelling,
        a method call (``ex.outstanding()``), also reads."""
        return _Count(len(self.tasks))

    def connected_managers_packages(self) -> dict[str, dict[str, str]]:
        """``{manager id: {distribution name: version}}``: what each connected worker pool's
        Python environment has installed."""
        return self._command_call("connected_managers_packages")

    def send_monitoring_messages(self, messages: list[dict[str, Any]]) -> None:
        """Report telemetry: a batch of dicts to our DataFlowKernel's callable, or, when software
        driving the executor set ``monitoring_messages`` to a queue, Parsl's tagged
        ``(MessageType, body)`` messages onto it (see ``tagged.py``)."""
        sink = self.monitoring_messages
        if sink is None or callable(sink) or not messages:
            super().send_monitoring_messages(messages)
            return
        try:
            from parsl_executor_htex.tagged import tag_messages

            for tagged in tag_messages(messages, self.run_id, self.label):
                sink.put(tagged)
        except Exception:
            logger.exception("Executor %s could not queue %d monitoring messages", self.label, len(messages))

    @property
    def workers_per_node(self) -> int | float:
        """The workers a node of a block will run, as the scaling strategy estimates it (Parsl's
        rule): ``max_workers_per_node``, lowered by the provider's ``cores_per_node`` /
        ``mem_per_node`` hints and the accelerators; 1 when nothing bounds it. Each pool counts
        its own node's CPUs and memory when it starts (``slots.worker_count``)."""
        count = self.max_workers_per_node or math.inf
        cores = getattr(self.provider, "cores_per_node", None)
        if cores is not None:
            count = min(count, math.floor(cores / self.cores_per_worker))
        mem = getattr(self.provider, "mem_per_node", None)
        if mem is not None and self.mem_per_worker:
            count = min(count, math.floor(mem / self.mem_per_worker))
        if self.available_accelerators:
            count = min(count, len(self.available_accelerators))
        return 1 if count == math.inf else count

    # ----------------------------------------------------------------- blocks
    def _addresses(self) -> str:
        if self.address:
            return self.address
        from parsl.addresses import get_all_addresses

        try:
            found = sorted(get_all_addresses())
        except Exception:
            found = []
        ordered = ["127.0.0.1"] + [a for a in found if a != "127.0.0.1"]
        return ",".join(ordered)

    def _launch_values(self, ports: dict[str, int]) -> dict[str, Any]:
        """What ``launch_cmd``'s ``str.format`` fields stand for (``{block_id}`` stays a field)."""
        url = _tcp_url(self.address or "127.0.0.1", ports["workers"])
        return {
            "python": shlex.quote(sys.executable),
            "debug": "--debug" if self.worker_debug else "",
            "max_workers_per_node": (
                ""
                if self.max_workers_per_node == math.inf
                else f"--max_workers_per_node={self.max_workers_per_node}"
            ),
            "max_workers": (
                ""
                if self.max_workers_per_node == math.inf
                else f"--max_workers_per_node={self.max_workers_per_node}"
            ),
            "addresses": self._addresses(),
            "prefetch_capacity": self.prefetch_capacity,
            "cores_per_worker": self.cores_per_worker,
            "mem_per_worker": self.mem_per_worker,
            "poll_period": self.poll_period,
            "worker_port": ports["workers"],
            "task_port": ports["workers"],
            "result_port": ports["workers"],
            "task_url": url,
            "result_url": url,
            "cert_dir": shlex.quote(self.cert_dir) if self.cert_dir else "None",
            "logdir": shlex.quote(self.worker_logdir),
            "logconf": "None",
            "block_id": "{block_id}",
            "heartbeat_period": self.heartbeat_period,
            "heartbeat_threshold": self.heartbeat_threshold,
            "drain_period": self.drain_period,
            "address_probe_timeout_string": (
                f"--address_probe_timeout={self.address_probe_timeout}" if self.address_probe_timeout else ""
            ),
            "cpu_affinity": self.cpu_affinity,
            "enable_mpi_mode": "--enable_mpi_mode" if self.enable_mpi_mode else "",
            "mpi_launcher": self.mpi_launcher,
            "nodes_per_block": getattr(self.provider, "nodes_per_block", 1),
            "accelerators": " ".join(self.available_accelerators),
            "ipc_host": f"--ipc_host={shlex.quote(socket.gethostname())}" if self._local_pools() else "",
        }

    def _fill_launch_cmd(self, ports: dict[str, int]) -> str:
        """``launch_cmd`` with every field but ``{block_id}`` filled in."""
        template = self.launch_cmd or DEFAULT_LAUNCH_CMD
        try:
            return _pool_command(template.format(**self._launch_values(ports)))
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"launch_cmd={template!r} of executor {self.label!r} is not a valid template "
                f"({type(e).__name__}: {e}): its fields are {sorted(self._launch_values(ports))}, "
                f"and a literal brace is written twice ({{{{ or }}}})"
            ) from e

    def _compose_launch_cmd(self) -> None:
        """As Parsl does at start: ``launch_cmd`` becomes the command blocks run, all filled in but
        ``{block_id}``."""
        self.launch_cmd = self._composed_cmd = self._fill_launch_cmd(self._ports)
        logger.debug("Executor %s launch command: %s", self.label, self.launch_cmd)

    def _get_launch_command(self, block_id: str) -> str:
        if not self._ports:
            raise BadStateException(self, "start() the executor before launching blocks")
        if self.launch_cmd != self._composed_cmd:  # replaced since start(): fill in the new one
            self._compose_launch_cmd()
        assert self.launch_cmd is not None
        return self.launch_cmd.replace("{block_id}", block_id)

    def _interchange_command(self) -> list[str]:
        """The interchange's command line: ``interchange_launch_cmd``, or with Parsl's default our
        interchange under this interpreter (it speaks our protocol over the pipes, whatever
        ``interchange.py`` this host's PATH may find)."""
        cmd = self.interchange_launch_cmd
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        cmd = list(cmd or DEFAULT_INTERCHANGE_LAUNCH_CMD)
        if cmd == DEFAULT_INTERCHANGE_LAUNCH_CMD:
            return [sys.executable, "-m", "parsl_executor_htex.interchange"]
        return cmd

    def _choose_blocks_to_scale_in(self, n: int, max_idletime: float | None) -> list[str]:
        active = self._active_blocks()
        if n <= 0 or not active:
            return []
        try:
            managers = self.connected_managers()
        except Exception:
            managers = []
        busy: dict[str, int] = {}
        idle_for: dict[str, float] = {}
        for d in managers:
            busy[d["block_id"]] = busy.get(d["block_id"], 0) + d["tasks"]
            idle_for[d["block_id"]] = min(idle_for.get(d["block_id"], math.inf), d["idle_duration"])
        # unconnected blocks first, then the longest idle, then the least busy
        ranked = sorted(active, key=lambda b: (b in busy, busy.get(b, 0), -idle_for.get(b, math.inf)))
        return ranked[:n]

    def _adjust_status(self, block_id: str, status: JobStatus) -> JobStatus:
        """As in Parsl, a block that ended without a worker pool of it ever connecting is
        MISSING (its workers never registered: a bad ``worker_init``, a launch that failed),
        whatever state the provider reports for it; its message says where to look."""
        if (
            status.terminal
            and status.state not in (JobState.SCALED_IN, JobState.MISSING)
            and self._started
            and not self._stopped
        ):
            try:
                ever = self.connected_blocks()
            except Exception as e:  # the interchange is busy or gone: keep the provider's state
                logger.debug("Cannot ask the interchange which blocks registered: %s", e)
                ever = None
            if ever is not None and block_id not in ever:
                status.state = JobState.MISSING
                if status.message is None:
                    status.message = (
                        "the block ended without its workers ever registering with the "
                        "interchange: see the stdout/stderr files of its job in the "
                        "submit_scripts directory"
                    )
        return status

    def _before_cancel(self, block_ids: list[str]) -> None:
        if self._started and not self._stopped:
            self._held_blocks.update(str(b) for b in block_ids)
            try:
                self._command_call("hold_blocks", block_ids, timeout=5)
            except Exception:
                logger.warning("Could not hold blocks %s before cancelling them", block_ids, exc_info=True)

    # --------------------------------------------------------------- shutdown
    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the interchange, the worker pools and the threads; fail tasks still in flight."""
        if not self._started or self._stopped:
            return
        logger.info("Shutting down executor %s", self.label)
        self._closing = True  # the interchange exits on purpose now: no restart
        try:
            self._command_call("shutdown", timeout=2)
        except Exception:
            logger.debug("Interchange did not acknowledge shutdown", exc_info=True)
        self._stopped = True
        proc = self._ix_proc
        if proc is not None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
            except OSError as e:  # the interchange already exited and the pipe broke
                logger.debug("Closing the interchange's stdin failed: %s", e)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # the pools got STOP from the interchange: give them a moment to exit, then cancel the rest
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            self._refresh_status()
            if not self._active_blocks():
                break
            time.sleep(0.05)
        try:
            self._cancel_all_blocks()
        except Exception:
            logger.exception("Executor %s failed to cancel its blocks", self.label)
        self._wake_sender.put(None)
        for t in self._threads:
            t.join(timeout=2)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()  # only now: the receiver thread reads it until the interchange exits
        self._fail_all(BadStateException(self, "the executor was shut down before the task finished"))
        if self._ctx is not None:
            self._ctx.destroy(linger=0)
        if self._own_ipc_dir and self.ipc_dir:
            shutil.rmtree(self.ipc_dir, ignore_errors=True)
        elif self.ipc_dir:  # the certificate directory: keep the keys, drop the socket files
            try:
                dispatch_files = [n for n in os.listdir(self.ipc_dir) if n.startswith(DISPATCH_FILE + ".")]
            except OSError:
                dispatch_files = []
            for name in ("command", m.WORKER_IPC, *dispatch_files):
                try:
                    os.unlink(os.path.join(self.ipc_dir, name))
                except FileNotFoundError:
                    pass  # the interchange removed it, or never bound it (no local pools)
                except OSError as e:
                    logger.debug("Could not remove %s from %s: %s", name, self.ipc_dir, e)
        logger.info("Executor %s shut down", self.label)

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(f"{type(self).__name__} cannot be pickled")


class _Count(int):
    """An int that is also callable, returning itself: ``outstanding`` is a property here and a
    method in Parsl, and callers use both spellings."""

    __slots__ = ()

    def __call__(self) -> int:
        return int(self)


class _TaskFuture(LightFuture):
    """The future ``submit`` returns. ``cancel()`` is best effort: it succeeds while the task
    still waits in the interchange (or on its way there), never once a worker pool has it."""

    def __init__(self, executor: HighThroughputExecutor, tid: int):
        # no Future.__init__: LightFuture makes its condition and lists only when first needed
        self._executor = executor
        self.parsl_executor_task_id = tid

    def cancel(self) -> bool:
        state = self._state
        if state != "PENDING":
            return state in ("CANCELLED", "CANCELLED_AND_NOTIFIED")
        if not self._executor._withdraw(self.parsl_executor_task_id):
            return False
        return super().cancel()


def _shutdown_at_exit(ref: weakref.ref[HighThroughputExecutor]) -> None:
    ex = ref()
    if ex is not None and ex._started and not ex._stopped:
        ex.shutdown()


def _culprit(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Which argument will not serialize, with its type (only called once serializing failed)."""
    named = [(f"argument {i}", a) for i, a in enumerate(args)] + [
        (f"argument {k!r}", v) for k, v in kwargs.items()
    ]
    for label, value in named:
        try:
            dumps(value)
        except Exception:
            return f"{label} of type {type(value).__module__}.{type(value).__qualname__}"
    return "the arguments"


def _listen_interface(address: str | None) -> str:
    """Where the interchange's worker port listens: ``address`` when it is one IP address (pools
    are told to connect there), else every interface (``*``)."""
    if not address:
        return "*"
    try:
        return str(ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]")))
    except ValueError:  # a host name or a list: pools may reach us at any of our addresses
        return "*"


def _tcp_url(address: str, port: int) -> str:
    """``tcp://HOST:PORT``, an IPv6 address in brackets."""
    address = address.strip().removeprefix("[").removesuffix("]")
    return f"tcp://[{address}]:{port}" if ":" in address else f"tcp://{address}:{port}"


def _pool_command(cmd: str) -> str:
    """``cmd``, its leading ``process_worker_pool.py`` (Parsl's default) run through this
    interpreter by absolute path: a block's shell (a batch job, an SSH login) seldom has this
    environment's bin directory on PATH, and PATH could find another environment's script."""
    head, _, rest = cmd.lstrip().partition(" ")
    if head != _POOL_SCRIPT:
        return cmd
    return f"{shlex.quote(sys.executable)} -m parsl_executor_htex.process_worker_pool {rest}".rstrip()


def _tail(path: str, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
