"""The worker pool (manager): one per node, between the interchange and the worker processes.

Launched through the provider and launcher as ``python -m parsl_executor_htex.process_worker_pool``
(or the ``process_worker_pool.py`` console script). It finds a reachable interchange address,
registers, starts one worker process per slot (talking to each over a pair of OS pipes, see
``messages.write_frames``) and runs a single-threaded ZeroMQ loop: tasks from
the interchange go to idle workers (with a function's bytes the first time a worker needs it),
results are sent back in batches, heartbeats flow both ways, and a worker that dies mid-task
fails that task with WorkerLost and is replaced.

Link to the interchange: TCP, with CurveZMQ when a certificate directory is given. A pool
launched on the interchange's own host (the executor passes ``--ipc_host`` with its host name
when the provider is a LocalProvider with the default launcher) connects instead to the plain
unix stream socket that the interchange listens on inside the 0700 certificate directory, when
it is on that host and can open it: local traffic skips encryption and ZeroMQ's I/O threads
(``link.FramedLink``, the same class as the interchange's end), and only processes of the user
owning the keys can reach it. Task
arguments and results of 64 KiB and more pass through as zero-copy frames, never unpickled
here (see ``messages.py``).

A lost interchange (killed, crashed) is replaced by the executor on the same port and socket
path: the pool notices at once (end of file on the unix socket, a disconnect event on the TCP
link), drops the tasks it had not started, keeps the results of the others, and registers with
the new interchange as soon as it answers (reconnecting with backoff); with no word from any
interchange for ``--hb_threshold`` seconds it exits, as it always did.

A pool that cannot take part exits with a non-zero code and a one-line reason on stderr (which
the provider keeps in the block's stderr file): no interchange address answered (1), the
interchange never acknowledged the registration within ``--address_probe_timeout`` seconds,
or refused the pool's CurveZMQ handshake (2: wrong port, keys that are not the executor's, or
one side encrypted and the other not), it refused the pool's versions (3), it had declared the
pool lost (4: the pool was stopped or suspended for longer than the heartbeat threshold; its
tasks were failed and perhaps retried elsewhere, so its late results are void), or the keys in
``--cert_dir`` cannot be read (5).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import deque
from typing import Any

import zmq

from parsl_executor_htex import messages as m
from parsl_executor_htex.link import FdPoller, FramedLink, LinkClosed, set_buffers
from parsl_executor_htex.packages import installed_packages
from parsl_executor_htex.probe import describe_failure, probe_addresses
from parsl_executor_htex.serialize import pack_exception
from parsl_executor_htex.slots import accelerator_env, affinity_env, affinity_for, worker_count

# plain ints: pyzmq's enum constants cost a few microseconds per & on the hot path
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)

logger = logging.getLogger("parsl_executor_htex.process_worker_pool")

__all__ = [
    "EXIT_BAD_KEYS",
    "EXIT_LOST",
    "EXIT_NOT_ACCEPTED",
    "EXIT_NO_ADDRESS",
    "EXIT_REJECTED",
    "VERSION_ENV",
    "BadKeys",
    "Manager",
    "main",
    "make_parser",
    "tcp_url",
    "unbracket",
]

EXIT_NO_ADDRESS = 1
EXIT_NOT_ACCEPTED = 2
EXIT_REJECTED = 3
EXIT_LOST = 4
EXIT_BAD_KEYS = 5

#: handshakes that fail with no detail (the interchange could not decrypt ours) before a pool
#: gives up; a refused client key or a protocol error ends it at the first (Manager._handshake_failed)
HANDSHAKE_TRIES = 3
_HANDSHAKE_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)

#: backoff (seconds) between attempts to reach a new interchange after losing ours
RECONNECT_MIN = 0.05
RECONNECT_MAX = 1.0

#: capacity asked for each worker pipe (Linux caps it at /proc/sys/fs/pipe-max-size, 1 MiB by default)
PIPE_SIZE = 1 << 20

#: report this parsl-executor-htex version at registration instead of the installed one; it
#: exists to exercise the interchange's version check
VERSION_ENV = "PARSL_HTEX_REPORT_VERSION"


class BadKeys(Exception):
    """The CurveZMQ keys in the pool's certificate directory cannot be read or used."""

    def __init__(self, cert_dir: str, cause: BaseException):
        super().__init__(
            f"cannot use the CurveZMQ keys in {cert_dir} ({type(cause).__name__}: {cause}): "
            f"a missing or damaged client.key_secret or server.key; start the pool with the "
            f"run's certificate directory (the executor's --cert_dir)"
        )


class WorkerProc:
    """One worker process and what it is doing."""

    __slots__ = (
        "fids",
        "forget",
        "proc",
        "rank",
        "ready",
        "result_fd",
        "started",
        "task",
        "task_fd",
        "task_started",
    )

    def __init__(self, rank: int, proc: subprocess.Popen, task_fd: int, result_fd: int):
        self.rank = rank
        self.task_fd = task_fd  # we write tasks here
        self.result_fd = result_fd  # and read results here
        self.proc = proc
        self.task: int | None = None
        self.task_started = 0.0
        self.fids: set[int] = {m.PAYLOAD_FID}  # submit_payload tasks bring no function
        # FORGETs held back while the worker runs a task: it does not read its pipe then, and
        # enough of them would fill the pipe and block this pool's loop (see _from_interchange)
        self.forget: list[int] = []
        self.ready = False
        self.started = time.monotonic()


class Manager:
    """State and event loop of one worker pool."""

    def __init__(
        self,
        args: argparse.Namespace,
        address: str,
        url: str | None = None,
        local: socket.socket | None = None,
    ):
        self.args = args
        self.pool_id = args.uid or uuid.uuid4().hex[:12]
        self.block_id = str(args.block_id)
        self.hostname = socket.gethostname()
        self.count = worker_count(
            args.max_workers_per_node, args.cores_per_worker, args.mem_per_worker, args.available_accelerators
        )
        self.hb_period = float(args.hb_period)
        self.hb_threshold = float(args.hb_threshold)
        self.poll_ms = max(1, int(args.poll))
        # a local pool polls only file descriptors (its link and the workers' pipes): select's
        # poll, without zmq.Poller's per-call overhead; over TCP the DEALER needs zmq's poll
        self.poller: zmq.Poller | FdPoller = FdPoller() if local is not None else zmq.Poller()
        # the link to the interchange: a connected unix socket when it runs on this host (see
        # _local_socket), else a ZeroMQ DEALER over TCP (CurveZMQ with a certificate directory)
        self.link: FramedLink | None = None
        self.ctx: zmq.Context | None = None
        self.ix: zmq.Socket | None = None
        # False from losing the interchange until a new one accepts us again (see _lost_interchange)
        self.connected = True
        self.ix_events: zmq.Socket | None = None  # TCP: the DEALER's connect/disconnect events
        self.local_path: str | None = None  # the unix socket to reconnect to, for a local pool
        self.reconnect_at = 0.0
        self.reconnect_delay = RECONNECT_MIN
        self.handshake_failures = 0  # in a row, before the interchange first accepted us
        if local is not None:
            self.local_path = os.path.join(args.cert_dir, m.WORKER_IPC)
            self._attach_local(local)
        else:
            self.ctx = zmq.Context()
            self.ix = self.ctx.socket(zmq.DEALER)
            self.ix.setsockopt(zmq.IDENTITY, self.pool_id.encode())
            self.ix.setsockopt(zmq.LINGER, 0)
            self.ix.setsockopt(zmq.IPV6, 1)  # IPv6 addresses, and host names that resolve to them
            if url is None:
                url = tcp_url(address, args.port)
                if args.cert_dir and args.cert_dir != "None":
                    from parsl_executor_htex.curve import make_client

                    try:
                        make_client(self.ix, args.cert_dir)
                    except (OSError, ValueError, zmq.ZMQError) as e:
                        self.ctx.destroy(linger=0)
                        raise BadKeys(args.cert_dir, e) from e
            # a lost interchange is replaced on the same port: ZeroMQ reconnects with this backoff
            self.ix.setsockopt(zmq.RECONNECT_IVL, int(RECONNECT_MIN * 1000))
            self.ix.setsockopt(zmq.RECONNECT_IVL_MAX, int(RECONNECT_MAX * 1000))
            self.ix_events = self.ix.get_monitor_socket(
                zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED | _HANDSHAKE_FAILED
            )
            self.ix.connect(url)
            self.poller.register(self.ix, zmq.POLLIN)
        self.workers: dict[int, WorkerProc] = {}
        self.by_fd: dict[int, WorkerProc] = {}
        self.queue: deque[tuple[int, int, Any]] = deque()
        # Bounded by the workflow: its FunctionCache holds functions weakly and sends FORGET for each one
        # garbage-collected, so this holds only functions still alive there (see serialize.py).
        self.functions: dict[int, bytes] = {}
        self.idle: deque[WorkerProc] = deque()
        self.results_tids: list[int] = []
        self.results: list[Any] = []
        self.monitor: list[bytes] = []  # monitoring messages from tasks, sent with the next flush
        self.mean_task = -1.0  # recent mean task duration (s), reported to the interchange
        self.stopping = False
        self.last_sent = 0.0
        self.last_heard = time.monotonic()
        self.last_check = time.monotonic()  # when _periodic_checks last ran
        self.drain_at = (time.monotonic() + float(args.drain_period)) if args.drain_period else None
        self._drain_acked = False
        self.accepted = False
        self.exit_code = 0
        self.address = address
        self.accept_timeout = float(args.address_probe_timeout or 30)
        self.mpi = None  # MPI mode: lends the batch job's nodes to tasks (see mpi.py)
        if args.enable_mpi_mode:
            from parsl_executor_htex.mpi import NodeScheduler

            self.mpi = NodeScheduler(args.mpi_launcher, workdir=args.logdir)

    # --------------------------------------------------------------- workers
    def _spawn(self, rank: int) -> None:
        env = dict(os.environ)
        env.update(
            {
                "PARSL_WORKER_RANK": str(rank),
                "PARSL_WORKER_COUNT": str(self.count),
                "PARSL_WORKER_POOL_ID": self.pool_id,
                "PARSL_WORKER_BLOCK_ID": self.block_id,
            }
        )
        env.update(accelerator_env(self.args.available_accelerators, rank))
        cpus = affinity_for(self.args.cpu_affinity, rank, self.count)
        if cpus:
            env.update(affinity_env(cpus))
        preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        log = None
        if self.args.debug and self.args.logdir:
            log = open(os.path.join(self.args.logdir, f"worker_{rank}.log"), "ab")
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        for fd in (task_w, result_w):  # fewer wake-ups per bulk message than the default 64 KiB
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except (AttributeError, OSError) as e:  # not Linux, or over pipe-max-size: default size
                logger.debug("Keeping the default pipe size for worker %d: %s", rank, e)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "parsl_executor_htex.worker", str(task_r), str(result_w), str(rank)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=preexec,
                pass_fds=(task_r, result_w),
            )
        finally:
            os.close(task_r)
            os.close(result_w)
            if log is not None:
                log.close()
        w = WorkerProc(rank, proc, task_w, result_r)
        self.workers[rank] = w
        self.by_fd[result_r] = w
        self.poller.register(result_r, zmq.POLLIN)

    def _close_pipes(self, w: WorkerProc) -> None:
        if w.task_fd < 0:
            return
        if self.by_fd.pop(w.result_fd, None) is not None:
            self.poller.unregister(w.result_fd)
        os.close(w.result_fd)
        os.close(w.task_fd)
        w.task_fd = w.result_fd = -1

    def _write(self, w: WorkerProc, frames: list[Any]) -> None:
        if w.task_fd < 0:
            return
        try:
            m.write_frames(w.task_fd, frames)
        except OSError as e:  # the worker is gone: _check_workers reports its task
            logger.debug("Worker %d is gone (%s): message dropped", w.rank, e)

    def _check_workers(self) -> None:
        for w in list(self.workers.values()):
            rc = w.proc.poll()
            if rc is None:
                continue
            logger.warning("Worker %d (pid %d) exited with code %s", w.rank, w.proc.pid, rc)
            if w.task is not None:
                from parsl_executor_htex.errors import WorkerLost  # imports parsl: only when needed

                err = WorkerLost(w.rank, self.hostname, f"worker process exited with code {rc}")
                self.results_tids.append(w.task)
                self.results.append(pack_exception(err))
                if self.mpi is not None:
                    self.mpi.release(w.task)
            if w in self.idle:
                self.idle.remove(w)
            del self.workers[w.rank]
            self._close_pipes(w)
            if not self.stopping:
                self._spawn(w.rank)

    # ------------------------------------------------------------------ loop
    def run(self) -> None:
        """Start the workers, register, and loop until told to stop (or the interchange is gone)."""
        for rank in range(self.count):
            self._spawn(rank)
        self._send(m.encode(m.REGISTER, self._registration()))
        self.last_sent = started = time.monotonic()
        poller = self.poller
        next_check = time.monotonic() + 0.05
        while not self.stopping:
            events = poller.poll(self.poll_ms if self.queue else 50)
            if events:
                self._read_workers(events)
                if self.ix is not None:
                    self._drain_interchange()
            if self.queue and self.idle and not self.stopping:
                self._assign()
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.05
                self._periodic_checks(now, started)
            if (self.results or self.monitor) and self.connected:
                self._flush()
            elif now - self.last_sent > self.hb_period:
                self._send([m.HEARTBEAT])
                self.last_sent = now
        self.shutdown()

    def _registration(self) -> dict[str, Any]:
        """What this pool tells the interchange when it registers."""
        version = m.version_info()
        if os.environ.get(VERSION_ENV):
            version["parsl-executor-htex"] = os.environ[VERSION_ENV]
        return {
            "version_info": version,
            "hostname": self.hostname,
            "block_id": self.block_id,
            "worker_count": self.count,
            "prefetch_capacity": self.args.prefetch_capacity,
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "version": version,
            "parsl_v": version["parsl-executor-htex"],
            "start_time": time.time(),
            "uid": self.pool_id,
            "cpu_count": os.cpu_count() or 1,
            "total_memory": _total_memory(),
            "packages": installed_packages(),
            # what we still run or hold results of, when registering with a new interchange
            "held_tasks": [w.task for w in self.workers.values() if w.task is not None] + self.results_tids,
        }

    def _periodic_checks(self, now: float, started: float) -> None:
        """Dead workers, the accept deadline, a silent interchange, and the drain period."""
        if now - self.last_check > self.hb_period:
            # this loop itself did not run for a heartbeat period (SIGSTOP, a suspended VM): the
            # silence was ours, so give the interchange a period to speak first (it may say that
            # it declared us lost) before blaming it
            self.last_heard = max(self.last_heard, now - self.hb_threshold + self.hb_period)
        self.last_check = now
        self._check_workers()
        if self.ix_events is not None:
            self._interchange_events()
        if not self.connected and self.local_path is not None and not self.stopping:
            self._reconnect_local(now)
        if not self.accepted and now - started > self.accept_timeout:
            self._fail(
                EXIT_NOT_ACCEPTED,
                f"the interchange at {self.address}:{self.args.port} did not accept this pool's "
                f"registration within {self.accept_timeout:g} s (wrong address or port, or "
                f"CurveZMQ keys that do not match the interchange's)",
            )
        elif now - self.last_heard > self.hb_threshold:
            logger.error("No message from the interchange for %.0f s: exiting", now - self.last_heard)
            self.stopping = True
        if self.drain_at is not None and now >= self.drain_at:
            self._drain()
        if self._drain_acked and not self.queue and all(w.task is None for w in self.workers.values()):
            self.stopping = True

    def _read_workers(self, events: list[tuple[Any, int]]) -> None:
        size = m.WORKER_RESULT.size + 1
        unpack_header = m.WORKER_RESULT.unpack_from
        by_fd = self.by_fd
        for fd, ev in events:
            w = by_fd.get(fd)  # type: ignore[call-overload]
            if w is None:
                if self.link is not None and fd == self.link.fd:
                    self._local_event(ev)
                continue
            try:
                msg, extra = m.read_frames(fd)
            except EOFError:  # the worker died; _check_workers reports it, closes and replaces it
                self.poller.unregister(fd)
                del by_fd[fd]
                continue
            _, tid, telemetry = unpack_header(msg, 1)
            tag = msg[:1]
            if tag == m.RESULTS:
                if self.mpi is not None:
                    self.mpi.release(tid)
                start = size
                if telemetry:  # the task's last monitoring messages, sent with the next results
                    start += telemetry
                    self.monitor.append(msg[size:start])
                self.results_tids.append(tid)
                self.results.append(
                    msg[start:] if extra is None else (msg[start:], [m.Blob(f) for f in extra])
                )
                took = time.monotonic() - w.task_started
                self.mean_task = took if self.mean_task < 0 else 0.8 * self.mean_task + 0.2 * took
                w.task = None
                self.idle.append(w)
                if w.forget:
                    self._write(w, m.encode(m.FORGET, w.forget))
                    w.forget = []
            elif tag == m.READY:
                w.ready = True
                self.idle.append(w)
            elif tag == m.MONITOR:
                self.monitor.append(bytes(msg[size:]))

    # --------------------------------------------------------- interchange link
    def _send(self, frames: list[Any]) -> None:
        """Send one message to the interchange (never blocks)."""
        if self.ix is not None:
            if self.accepted:
                m.send(self.ix, frames)
                return
            # Not accepted yet: a refused CurveZMQ key removes the DEALER's only pipe for good,
            # and a blocking send would then wait forever, before any check could fail the pool
            try:
                self.ix.send_multipart(frames, zmq.NOBLOCK, copy=False)
            except zmq.Again:
                logger.warning(
                    "No connection to the interchange to send to (handshake refused?): message dropped"
                )
        elif self.link is not None:
            self.link.send(frames)
        else:
            logger.debug("No interchange to send to: message dropped")

    # ------------------------------------------------------ interchange loss
    def _attach_local(self, sock: socket.socket) -> None:
        self.link = FramedLink(sock, self.poller)
        self._send([self.pool_id.encode()])  # the first message: our identity

    def _lost_interchange(self, reason: str) -> None:
        """The interchange is gone. The executor starts a new one on the same endpoints: hold
        our results for it, drop the tasks not started (the executor resubmits or fails them),
        and register again once it answers; ``hb_threshold`` without word from it, we exit."""
        if self.stopping or not self.connected or not self.accepted:
            return
        logger.warning(
            "Lost the interchange (%s): waiting up to %g s for a new one; %d queued tasks dropped",
            reason,
            self.hb_threshold,
            len(self.queue),
        )
        self.connected = False
        self.queue.clear()
        self.reconnect_delay = RECONNECT_MIN
        self.reconnect_at = time.monotonic()

    def _register_again(self) -> None:
        logger.info("Registering with the new interchange")
        self._send(m.encode(m.REGISTER, self._registration()))

    def _interchange_events(self) -> None:
        """Connection events of the TCP link: lost on a disconnect, register on a new handshake."""
        from zmq.utils.monitor import recv_monitor_message

        sock = self.ix_events
        assert sock is not None
        while sock.getsockopt(_EVENTS) & _POLLIN:
            event = recv_monitor_message(sock)
            kind = event["event"]
            if kind == zmq.EVENT_DISCONNECTED:
                self._lost_interchange("its connection closed")
            elif kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshake_failures = 0
                if not self.connected and not self.stopping:
                    self._register_again()
            elif kind & _HANDSHAKE_FAILED:
                self._handshake_failed(kind, event["value"])

    def _handshake_failed(self, kind: int, value: int) -> None:
        """The ZeroMQ handshake with the interchange failed: fail the pool, before it was ever
        accepted, with what went wrong instead of waiting out the accept deadline."""
        if self.accepted or self.stopping:  # a replacement interchange starting: ZeroMQ retries
            logger.warning("Handshake with the interchange failed (event %d, %d): retrying", kind, value)
            return
        self.handshake_failures += 1
        where = f"the interchange at {tcp_url(self.address, self.args.port).removeprefix('tcp://')}"
        keys = self.args.cert_dir if self.args.cert_dir not in (None, "", "None") else None
        if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            # its authenticator does not know our public key: the keys are not the executor's
            self._fail(
                EXIT_NOT_ACCEPTED,
                f"{where} refused this pool's CurveZMQ client key (status {value}): the keys in "
                f"{keys} are not the ones the executor made for this run; start the pool with "
                f"the run's certificate directory (the executor's --cert_dir)",
            )
        elif kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL or self.handshake_failures >= HANDSHAKE_TRIES:
            # a protocol error (one side CURVE, the other not) is final: ZeroMQ does not retry
            detail = (
                f"the server key in {keys} is not the interchange's, or the interchange is not "
                f"encrypted (encrypted=False)"
                if keys
                else "this pool has no CurveZMQ keys (--cert_dir None) and the interchange is "
                "encrypted (encrypted=True)"
            )
            self._fail(EXIT_NOT_ACCEPTED, f"the ZeroMQ handshake with {where} failed: {detail}")

    def _reconnect_local(self, now: float) -> None:
        """Try the interchange's unix socket again, backing off up to RECONNECT_MAX seconds."""
        if self.link is not None or now < self.reconnect_at or self.local_path is None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        set_buffers(sock)
        try:
            sock.connect(self.local_path)
        except OSError as e:  # not bound again yet (or a stale socket file)
            sock.close()
            logger.debug("The interchange's socket %s does not answer yet: %s", self.local_path, e)
            self.reconnect_at = now + self.reconnect_delay
            self.reconnect_delay = min(RECONNECT_MAX, self.reconnect_delay * 2)
            return
        self._attach_local(sock)
        self._register_again()

    def _local_event(self, ev: int) -> None:
        assert self.link is not None
        try:
            msgs = self.link.on_event(ev)
        except LinkClosed as e:
            self.link.close()
            self.link = None
            if self.stopping:
                return
            if not self.accepted:
                logger.error("The interchange closed its connection (%s): exiting", e)
                self.stopping = True
                return
            self._lost_interchange(f"its connection closed: {e}")
            return
        for msg, extra in msgs:
            self._from_interchange(msg, extra)

    def _drain_interchange(self) -> None:
        sock = self.ix
        assert sock is not None
        while sock.getsockopt(_EVENTS) & _POLLIN:
            msg, extra = m.recv(sock)
            self._from_interchange(msg, extra)

    def _from_interchange(self, msg: Any, extra: list[Any] | None) -> None:
        self.last_heard = time.monotonic()
        tag = msg[:1]
        if tag == m.TASKS:
            meta, defs, payloads = m.decode(msg, extra)
            if defs:
                self.functions.update(defs)
            self.queue.extend((tid, fid, p) for (tid, fid), p in zip(meta, payloads, strict=True))
        elif tag == m.FORGET:
            fids = m.decode(msg)
            for fid in fids:
                self.functions.pop(fid, None)
            for w in self.workers.values():
                if w.fids.intersection(fids):
                    w.fids.difference_update(fids)
                    if w.task is None:  # it reads its pipe
                        self._write(w, m.encode(m.FORGET, fids))
                    else:  # sent when its task is done
                        w.forget.extend(fids)
        elif tag == m.STOP:
            if len(msg) > 1 and self._declared_lost(msg):
                return
            logger.info("The interchange asked this pool to stop")
            self.stopping = True
        elif tag == m.ACCEPT:
            self.accepted = True
            self.connected = True
        elif tag == m.REGISTER:  # a new interchange, which replaced ours, does not know us
            self._lost_interchange("a new interchange asked this pool to register")
            self._register_again()
        elif tag == m.DRAIN:
            self._drain_acked = True  # every task the interchange sent us is in self.queue
        elif tag == m.REJECT:
            self._fail(EXIT_REJECTED, f"the interchange rejected this pool: {m.decode(msg)}")

    def _declared_lost(self, msg: Any) -> bool:
        """STOP + STOP_LOST: the interchange failed our tasks already; exit without sending results."""
        from parsl_executor_htex.interchange import STOP_LOST  # rare: only when it happens

        if bytes(msg[1:]) != STOP_LOST:
            return False
        dropped = len(self.results_tids)
        self.results_tids, self.results = [], []  # the interchange would drop them in any case
        self.queue.clear()
        self._fail(
            EXIT_LOST,
            f"the interchange declared this pool lost (it heard nothing from it for over "
            f"{self.hb_threshold:g} s: stopped or suspended?) and failed its tasks; exiting, "
            f"{dropped} late results dropped",
        )
        return True

    def _assign(self) -> None:
        if self.mpi is not None:
            self.mpi.assign(self)
            return
        queue, idle, functions, encode, write, TASKS = (
            self.queue,
            self.idle,
            self.functions,
            m.encode,
            self._write,
            m.TASKS,
        )
        now = time.monotonic()
        while queue and idle:
            w = idle.popleft()
            tid, fid, payload = queue.popleft()
            if fid in w.fids:
                fbytes = None
            else:
                fbytes = functions[fid]
                w.fids.add(fid)
            w.task = tid
            w.task_started = now
            write(w, encode(TASKS, (tid, fid, fbytes, payload)))

    def _flush(self) -> None:
        """Send the results and monitoring messages gathered since the last flush, in one
        message: the monitoring messages ride in the results' telemetry section (the executor
        reports them before it resolves the results), or, with no result to send (samples
        of long tasks while they run), in a MONITOR message of their own."""
        monitor = self.monitor
        if monitor:
            self.monitor = []
        if self.results:
            frames = m.encode_results(
                self.results_tids, self.results, self.mean_task, b"".join(monitor) if monitor else b""
            )
            self.results_tids = []
            self.results = []
        else:
            frames = m.encode(m.MONITOR, monitor)
        self._send(frames)
        self.last_sent = time.monotonic()

    def _fail(self, code: int, reason: str) -> None:
        """Stop and exit with ``code``, saying why on stderr (the block's stderr file)."""
        logger.critical("%s", reason)
        print(f"process_worker_pool: {reason}", file=sys.stderr, flush=True)
        self.exit_code = code
        self.stopping = True

    def _drain(self) -> None:
        """drain_period is over: take no more tasks, exit once the running ones finish."""
        if self.drain_at is None:
            return
        logger.info("Drain period over: finishing running tasks, then exiting")
        self._send([m.DRAIN])
        self.drain_at = None

    # --------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        if (self.results or self.monitor) and self.exit_code != EXIT_LOST:  # a lost pool's results are void
            self._flush()
        if self.ix is not None:
            try:
                self.ix.send(m.STOP, zmq.NOBLOCK)
            except zmq.ZMQError as e:  # the interchange then loses us on missed heartbeats
                logger.debug("Could not tell the interchange this pool is leaving: %s", e)
        elif self.link is not None:
            self.link.send([m.STOP])
            self.link.finish(0.2)
        for w in self.workers.values():
            if w.task is not None:  # busy: do not wait for the task to finish
                w.proc.terminate()
                continue
            try:
                m.write_frames(w.task_fd, [m.STOP])  # a few bytes: never blocks
            except OSError:
                w.proc.terminate()
        deadline = time.monotonic() + 1.0
        for w in self.workers.values():
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()
        if self.ix is not None and self.ctx is not None:
            self.ix.setsockopt(zmq.LINGER, 200)
            self.ctx.destroy(linger=200)
        if self.link is not None:
            self.link.close()
        for w in list(self.workers.values()):
            self._close_pipes(w)
        logger.info("Worker pool %s stopped", self.pool_id)


def _total_memory() -> int:
    """Physical memory of this node in bytes (0 if the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="process_worker_pool.py", description=__doc__.split("\n")[0])
    p.add_argument("-d", "--debug", action="store_true", help="log at DEBUG level")
    p.add_argument("-a", "--addresses", default="127.0.0.1", help="comma-separated interchange addresses")
    p.add_argument("-P", "--port", "--task_port", type=int, help="the interchange's worker port")
    p.add_argument("--result_port", type=int, help="accepted for old launch commands; unused")
    p.add_argument("--task_url", help="old spelling: tcp://HOST:PORT of the interchange")
    p.add_argument("--result_url", help="accepted for old launch commands; unused")
    p.add_argument("--cert_dir", default="None", help="CurveZMQ certificate directory, or None")
    p.add_argument(
        "--ipc_host",
        default=None,
        help="the interchange's host name: on that host, connect through the unix socket "
        "in --cert_dir instead of TCP",
    )
    p.add_argument("-l", "--logdir", default=None, help="directory for the pool's logs")
    p.add_argument("-L", "--logconf", default=None, help="accepted for compatibility; unused")
    p.add_argument("-u", "--uid", default=None, help="pool id (default: random)")
    p.add_argument("-b", "--block_id", default=None, help="block this pool belongs to")
    p.add_argument("-c", "--cores_per_worker", type=float, default=1.0)
    p.add_argument("-m", "--mem_per_worker", default="None")
    p.add_argument("--max_workers_per_node", "--max_workers", default="inf")
    p.add_argument("-p", "--prefetch_capacity", type=int, default=0)
    p.add_argument("--hb_period", type=float, default=30)
    p.add_argument("--hb_threshold", type=float, default=120)
    p.add_argument("--drain_period", default="None")
    p.add_argument("--address_probe_timeout", type=float, default=30)
    p.add_argument("--poll", type=int, default=10, help="poll period in milliseconds")
    p.add_argument("--cpu-affinity", dest="cpu_affinity", default="none")
    p.add_argument("--available-accelerators", dest="available_accelerators", nargs="*", default=[])
    p.add_argument("--enable_mpi_mode", action="store_true")
    p.add_argument("--mpi-launcher", dest="mpi_launcher", default="mpiexec")
    return p


def tcp_url(address: str, port: int | str) -> str:
    """``tcp://ADDRESS:PORT``, with an IPv6 address in brackets (``tcp://[::1]:PORT``)."""
    address = unbracket(address)
    return f"tcp://[{address}]:{port}" if ":" in address else f"tcp://{address}:{port}"


def unbracket(address: str) -> str:
    """``::1`` for ``[::1]``: the bare form, which sockets and ``getaddrinfo`` take."""
    address = address.strip()
    return address[1:-1] if address.startswith("[") and address.endswith("]") else address


def _none_or_float(value: Any) -> float | None:
    return None if value in (None, "None", "none", "") else float(value)


def _local_socket(args: argparse.Namespace) -> socket.socket | None:
    """A unix socket connected to the interchange's local endpoint, if this pool runs on the
    interchange's host and can reach the endpoint in its certificate directory; else None (TCP)."""
    if not args.ipc_host or args.ipc_host != socket.gethostname() or args.cert_dir in (None, "None"):
        return None
    path = os.path.join(args.cert_dir, m.WORKER_IPC)
    try:
        import stat

        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return None
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    set_buffers(sock)  # before connect, so the kernel sizes the connection's window for them
    try:
        sock.connect(path)
    except OSError as e:  # a stale socket file, or not ours to open: fall back to TCP
        logger.warning("Cannot connect to the interchange's local endpoint %s (%s): using TCP", path, e)
        sock.close()
        return None
    return sock


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``process_worker_pool.py`` and ``python -m parsl_executor_htex.process_worker_pool``."""
    args = make_parser().parse_args(argv)
    args.mem_per_worker = _none_or_float(args.mem_per_worker)
    args.drain_period = _none_or_float(args.drain_period)
    args.max_workers_per_node = _none_or_float(args.max_workers_per_node) or math.inf
    if args.task_url and not args.port:
        host, _, port = args.task_url.rpartition(":")
        args.addresses = host.split("//")[-1]
        args.port = int(port)
    addresses = [unbracket(a) for a in args.addresses.split(",") if a.strip()]
    if args.block_id in (None, "None"):
        args.block_id = "0"
    level = logging.DEBUG if args.debug else logging.INFO
    root = logging.getLogger("parsl_executor_htex")
    root.setLevel(level)
    if args.logdir:
        args.logdir = os.path.join(args.logdir, f"block-{args.block_id}", args.uid or uuid.uuid4().hex[:12])
        os.makedirs(args.logdir, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(os.path.join(args.logdir, "manager.log"))
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(name)s:%(lineno)d %(process)d [%(levelname)s] %(message)s")
    )
    root.addHandler(handler)
    local = _local_socket(args)
    failures: dict[str, OSError] = {}
    address = (
        "localhost"
        if local is not None
        else probe_addresses(addresses, args.port, args.address_probe_timeout, failures)
    )
    if address is None:
        logger.critical(
            "None of the interchange addresses %s answered on port %s within %s s",
            args.addresses,
            args.port,
            args.address_probe_timeout,
        )
        tried = "; ".join(
            f"{tcp_url(a, args.port).removeprefix('tcp://')}: {describe_failure(failures[a])}"
            for a in addresses
            if a in failures
        )
        print(
            f"process_worker_pool: cannot reach the interchange at any of {args.addresses} port "
            f"{args.port} within {args.address_probe_timeout:g} s" + (f" ({tried})" if tried else ""),
            file=sys.stderr,
        )
        raise SystemExit(EXIT_NO_ADDRESS)
    try:
        manager = Manager(args, address, local=local)
    except BadKeys as e:
        logger.critical("%s", e)
        print(f"process_worker_pool: {e}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_BAD_KEYS) from e

    def on_term(signum: int, frame: Any) -> None:
        manager.stopping = True

    signal.signal(signal.SIGTERM, on_term)
    try:
        manager.run()
    except KeyboardInterrupt:
        manager.shutdown()
    if manager.exit_code:
        raise SystemExit(manager.exit_code)


if __name__ == "__main__":
    main()
