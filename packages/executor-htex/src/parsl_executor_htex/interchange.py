"""The interchange: one process between the workflow's executor and the worker pools.

Started by the executor as ``python -m parsl_executor_htex.interchange``; it reads its
configuration (a pickled dict) from stdin, binds its sockets, prints one ``READY`` line
with the ports on stdout and runs a single-threaded ZeroMQ loop:

* tasks from the executor wait in a priority heap until some manager has a free slot;
* managers get tasks in batches, with the bytes of any function they have not seen yet;
* results from managers are forwarded to the executor frame for frame: only the task ids in
  the batch header are read (see ``messages.py``);
* managers that stop heartbeating are declared lost and their tasks fail with ManagerLost; a
  lost manager that speaks again (it was stopped or suspended, not dead) has its late results
  dropped and is told to exit (STOP with the reason ``STOP_LOST``), so no task's result reaches
  the executor twice;
* a pool that registers, leaves or is held is reported to the executor as a ``node`` monitoring
  message, and with ``node_updates`` (an engine set a queue as the executor's monitoring sink)
  so is every batch of tasks given to a pool, with the ids of all tasks it holds: which block
  runs which task.

Links: the executor is the interchange's parent on this host. Tasks and FORGETs arrive on
the interchange's stdin pipe and results and monitoring messages leave on its stdout pipe, in
the framing of ``messages.FrameReader`` / ``FrameWriter``; commands use one ``ipc://`` REQ/REP
endpoint in a private (0700) directory, without CurveZMQ: only this user can open it, the same
trust boundary as the secret keys. Worker pools connect over TCP, with CurveZMQ when
``encrypted``; with encryption on, the interchange also listens on a plain unix stream socket
inside the 0700 certificate directory, which only pools on this host that can read that
directory can use (see ``link.py`` and ``process_worker_pool.py``): no ZeroMQ I/O threads on
that hop, and a closed connection loses its manager at once.

Prefetch: a manager reports its recent mean task duration with each result batch. While its
tasks take under ``SHORT_TASK`` seconds it is given ``worker_count`` extra tasks beyond
``prefetch_capacity``, so its workers never wait a whole round trip for the next short task.
A pool across a slow link (its refill round trip, timed from tasks sent to it while it held
none to its next results, over ``SLOW_LINK``) is given enough per worker to last that round
trip (``short_task_extra``, at most ``MAX_EXTRA_PER_WORKER``). Long tasks are not
over-dispatched, which keeps load balancing between pools as it was. Once a
task with a priority arrives, prefetching stops for good: priorities promise that queued tasks
start in priority order, which only holds if the interchange keeps them until a worker is free.

Its stdin stays open for the executor's lifetime: end of file means the workflow process is
gone, and the interchange stops its managers and exits. So does a change of parent process
(checked twice a second), for when end of file never comes: a child the workflow forked (as
multiprocessing's "fork" does) holds a copy of the pipe's write end and may outlive it.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import logging
import math
import os
import pickle
import random
import socket
import struct
import sys
import time
from array import array
from typing import Any

import zmq

from parsl_executor_htex import messages as m
from parsl_executor_htex.link import FdPoller, FramedLink, LinkClosed, set_buffers
from parsl_executor_htex.manager_selector import RandomManagerSelector
from parsl_executor_htex.serialize import pack_exception

# plain ints: pyzmq's enum constants cost a few microseconds per & on the hot path
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)

logger = logging.getLogger("parsl_executor_htex.interchange")

__all__ = ["Interchange", "main"]

INF = float("inf")
#: managers whose tasks take less than this (seconds, mean) get extra tasks queued ahead
SHORT_TASK = 0.01
#: a pool of short tasks whose refill round trip (from tasks sent to it while it held none to
#: its first result, less the mean task) is longer than this (seconds) is on a slow link: it
#: gets enough extra tasks per worker to cover that round trip, not just one
SLOW_LINK = 0.001
#: the most extra tasks per worker a pool on a slow link is given
MAX_EXTRA_PER_WORKER = 16
#: tasks shorter than this (seconds) count as this long when sizing a slow link's extra tasks
MIN_TASK = 0.0005


def short_task_extra(worker_count: int, mean: float, refill: float) -> int:
    """Tasks queued ahead at a pool of short tasks (mean under SHORT_TASK seconds).

    One per worker, so a worker never waits a round trip for its next task; on a slow link
    (``refill`` over SLOW_LINK), enough per worker to last that round trip, at most
    MAX_EXTRA_PER_WORKER.
    """
    per_worker = 1
    if refill > SLOW_LINK:
        per_worker = min(MAX_EXTRA_PER_WORKER, max(1, math.ceil(refill / max(mean, MIN_TASK))))
    return worker_count * per_worker


#: the reason after STOP (``m.STOP + STOP_LOST``) telling a pool that this interchange declared
#: it lost: its tasks were failed (and perhaps retried elsewhere), so it must exit, not re-register
STOP_LOST = b"lost"
#: how many lost managers' identities are remembered (oldest forgotten first)
LOST_MEMORY = 10_000
#: how often (seconds) the interchange checks that its parent, the workflow process, is alive
PARENT_CHECK = 0.5

#: task ids the dispatch log may hold beyond twice those pools have, before it is compacted
#: (the default: the executor sends its own)
DISPATCH_LOG_SLACK = 10_000
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file ``fd`` (a regular file: no EAGAIN)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ManagerRecord:
    """What the interchange knows about one connected worker pool."""

    __slots__ = (
        "active",
        "block_id",
        "capacity",
        "draining",
        "extra",
        "fids",
        "hostname",
        "ident",
        "idle_since",
        "info",
        "last_seen",
        "mean",
        "probe_at",
        "refill",
        "registered",
        "tasks",
        "worker_count",
    )

    def __init__(self, ident: bytes, info: dict[str, Any]):
        self.ident = ident
        self.info = info
        self.block_id = str(info.get("block_id"))
        self.hostname = info.get("hostname", "?")
        self.worker_count = int(info.get("worker_count", 1))
        self.capacity = self.worker_count + int(info.get("prefetch_capacity", 0))
        self.extra = 0  # while the pool's tasks are short (see SHORT_TASK, short_task_extra)
        self.mean = -1.0  # its last reported mean task duration (s); -1 before its first results
        # when tasks were sent to it while it held none (monotonic), until its next results
        self.probe_at: float | None = None
        self.refill = -1.0  # estimated refill round trip (s): see short_task_extra
        self.tasks: dict[int, int] = {}  # tid -> fid
        self.fids: set[int] = {m.PAYLOAD_FID}  # submit_payload tasks bring no function
        self.last_seen = time.monotonic()
        self.active = True
        self.draining = False
        self.registered = time.time()
        self.idle_since: float | None = time.time()

    @property
    def free(self) -> int:
        return self.capacity + self.extra - len(self.tasks) if self.active and not self.draining else 0

    def describe(self) -> dict[str, Any]:
        return {
            "manager": self.ident.decode(errors="replace"),
            "block_id": self.block_id,
            "hostname": self.hostname,
            "worker_count": self.worker_count,
            "tasks": len(self.tasks),
            "idle_duration": (time.time() - self.idle_since) if self.idle_since else 0.0,
            "active": self.active,
            "draining": self.draining,
            "python_version": self.info.get("python"),
            "parsl_version": self.info.get("parsl_v"),
            "timestamp": self.registered,
        }


class LocalPool(FramedLink):
    """The interchange's end of the link from a worker pool on this host (see ``link.py``).

    The pool's first message is its identity (the ROUTER identity over TCP)."""

    __slots__ = ("ident",)

    def __init__(self, sock: socket.socket, poller: zmq.Poller | FdPoller):
        set_buffers(sock)
        super().__init__(sock, poller)
        self.ident: bytes | None = None


class Interchange:
    """The interchange's state and event loop."""

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.hb_period = float(config["heartbeat_period"])
        self.hb_threshold = float(config["heartbeat_threshold"])
        self.poll_ms = max(1, int(config.get("poll_period", 10)))
        self.selector = config.get("manager_selector")
        self.node_updates = bool(config.get("node_updates"))  # a node message per dispatch
        self.check_versions = config.get("check_versions", True)
        # interchange recovery: before each dispatch round, the task ids it gives out go to a
        # file the executor reads only once we are gone (a write, no wake-up of the executor);
        # should that file fail, as DISPATCHED notices on the executor's pipe instead
        self.dispatch_notices = bool(config.get("dispatch_notices"))
        self.dispatch_path: str | None = config.get("dispatch_log") or None
        self.dispatch_fd = -1
        self.dispatch_logged = 0  # task ids in the file
        self.dispatch_slack = int(config.get("dispatch_log_slack", DISPATCH_LOG_SLACK))
        self.dispatch_compact_at = self.dispatch_slack
        if self.dispatch_path:
            try:
                self.dispatch_fd = os.open(self.dispatch_path, _LOG_FLAGS | os.O_TRUNC, 0o600)
            except OSError as e:
                self._dispatch_log_failed(e)
        self.version = m.version_info()
        self.pending: list[tuple[float, int, int, int, Any]] = []
        self.seq = 0
        # Bounded by the workflow: its FunctionCache holds functions weakly and sends FORGET for each one
        # garbage-collected, so this holds only functions still alive there (see serialize.py).
        self.functions: dict[int, bytes] = {}
        self.managers: dict[bytes, ManagerRecord] = {}
        # managers declared lost on missed heartbeats, by identity: anything they send later is
        # dropped and answered with STOP + STOP_LOST (see _from_lost)
        self.lost: dict[bytes, float] = {}
        self.ready: dict[bytes, ManagerRecord] = {}  # managers with free slots
        self.prioritized = False  # a task with a priority was seen: no adaptive prefetch
        # blocks being scaled in: from the executor when we replace an interchange that died
        self.held_blocks: set[str] = {str(b) for b in config.get("held_blocks") or ()}
        # every block a pool ever registered from, in order (a replacement interchange starts
        # from the history its predecessor last reported)
        self.block_history: list[str] = [str(b) for b in config.get("block_history") or ()]
        self.max_tid = 0  # highest task id read from the executor (its ids only grow)
        self.cancelled: set[int] = set()  # withdrawn before they reached us: drop on arrival
        self.stopping = False
        self.ctx = zmq.Context()
        self._ports: dict[zmq.Socket, int] = {}
        self.auth = None
        cert_dir = config.get("cert_dir") if config.get("encrypted") else None
        if cert_dir:
            from parsl_executor_htex.curve import start_authenticator

            self.auth = start_authenticator(self.ctx, cert_dir)
        # the executor link: tasks on our stdin, results on our stdout (see run()), commands here
        self.out: m.FrameWriter | None = None
        self.command = self._bind_ipc(zmq.REP, f"{config['ipc_dir']}/command")
        ports = config.get("worker_ports")
        self.workers = self._bind(
            zmq.ROUTER,
            config.get("worker_interface", "*"),
            config["worker_port_range"],
            fixed=ports[0] if ports else None,
        )
        self.workers.setsockopt(zmq.ROUTER_HANDOVER, 1)
        # pools on this host: a plain unix stream socket in the 0700 certificate directory
        # (no ZeroMQ I/O threads, no CURVE); see LocalPool and process_worker_pool.py
        self.poller = FdPoller()
        self.listener: socket.socket | None = None
        self.local_path: str | None = config.get("worker_ipc") or None
        self.conns: dict[int, LocalPool] = {}  # fd -> connection
        self.local: dict[bytes, LocalPool] = {}  # manager identity -> connection
        self._out_polled = False  # the executor's pipe is polled for POLLOUT
        if self.local_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.local_path)  # a stale socket file from an earlier run
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.local_path)
            os.chmod(self.local_path, 0o600)
            listener.listen(128)
            listener.setblocking(False)
            self.listener = listener

    def _bind_ipc(self, kind: int, path: str) -> zmq.Socket:
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.bind(f"ipc://{path}")
        return sock

    def _bind(
        self, kind: int, interface: str, port_range: tuple[int, int], fixed: int | None = None
    ) -> zmq.Socket:
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        if self.config.get("encrypted"):
            from parsl_executor_htex.curve import make_server

            make_server(sock, self.config["cert_dir"])
        # IPv6 as well as IPv4: "*" binds both (libzmq falls back to IPv4 alone on a host
        # without IPv6), so pools reach us at any of our addresses, bracketed IPv6 ones included
        sock.setsockopt(zmq.IPV6, 1)
        if ":" in interface and not interface.startswith("["):
            interface = f"[{interface}]"
        try:
            port = self._bind_port(sock, interface, port_range, fixed)
        except zmq.ZMQError as e:
            if interface == "*" or e.errno != errno.EADDRNOTAVAIL:
                raise
            # not an address of this host (a NAT's public address, say): pools connect to it
            # and are forwarded here, so listen on every interface rather than fail
            logger.warning(
                "Cannot listen on %s (%s), which is not an address of this host: the worker port "
                "listens on every interface instead",
                interface,
                e.strerror,
            )
            port = self._bind_port(sock, "*", port_range, fixed)
        self._ports[sock] = port
        return sock

    @staticmethod
    def _bind_port(sock: zmq.Socket, interface: str, port_range: tuple[int, int], fixed: int | None) -> int:
        """Bind ``sock`` on ``interface``: to port ``fixed``, a free one in ``port_range``, or any."""
        if fixed is not None:
            sock.bind(f"tcp://{interface}:{fixed}")
            return fixed
        lo, hi = port_range if port_range else (0, 0)
        if lo or hi:
            return int(sock.bind_to_random_port(f"tcp://{interface}", lo, hi, 1000))
        sock.bind(f"tcp://{interface}:0")
        return int(sock.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])

    def ports(self) -> dict[str, int]:
        return {"workers": self._ports[self.workers]}

    # ------------------------------------------------------------------ loop
    def run(self, stdin_fd: int, out_fd: int) -> None:
        """The event loop: tasks and FORGETs arrive on ``stdin_fd`` (end of file there stops
        it), results go to ``out_fd``, written without ever blocking (``messages.FrameWriter``)."""
        self._register_links(stdin_fd)
        self.out = m.FrameWriter(out_fd)
        reader = m.FrameReader(stdin_fd)
        next_beat = time.monotonic() + self.hb_period
        next_check = time.monotonic() + min(1.0, self.hb_period)
        parent, next_parent_check = os.getppid(), time.monotonic() + PARENT_CHECK
        while not self.stopping:
            events = self.poller.poll(self.poll_ms if self.pending else 200)
            if events:
                self._handle_events(events, stdin_fd, reader)
            if self.pending:
                self._dispatch()
            self._flush_executor()
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.hb_period
                for ident in list(self.managers):
                    self._send(ident, [m.HEARTBEAT])
            if now >= next_check:
                next_check = now + min(1.0, self.hb_period)
                self._check_heartbeats(now)
            if now >= next_parent_check:
                next_parent_check = now + PARENT_CHECK
                if os.getppid() != parent:  # we were re-parented: the workflow process died
                    logger.info("The executor's process %d is gone: shutting down", parent)
                    self.stopping = True
        self.shutdown()

    def _register_links(self, stdin_fd: int) -> None:
        """Poll the executor's pipe, the pools' sockets and the command socket."""
        poller = self.poller
        if self.listener is not None:
            poller.register(self.listener.fileno(), zmq.POLLIN)
        poller.register(self.workers, zmq.POLLIN)
        poller.register(self.command, zmq.POLLIN)
        poller.register(stdin_fd, zmq.POLLIN)

    def _handle_events(self, events: list[tuple[Any, int]], stdin_fd: int, reader: m.FrameReader) -> None:
        """Act on one poll's events: executor messages, local pools, TCP pools, commands."""
        if any(s == stdin_fd for s, _ in events):
            try:
                for msg, extra in reader.read():
                    self._from_executor(msg, extra)
            except EOFError:
                logger.info("The executor's process is gone (stdin closed): shutting down")
                self.stopping = True
        # a ZeroMQ socket the poller did not report has nothing to read (see FdPoller), so only
        # the reported ones are read (each check of one costs two system calls)
        workers = self.workers
        command = False
        drain = False
        conns = self.conns
        listen_fd = self.listener.fileno() if self.listener is not None else None
        for s, ev in events:
            if s is workers:
                drain = True
            elif s is self.command:
                command = True
            elif listen_fd is not None:
                c = conns.get(s)  # type: ignore[call-overload]
                if c is not None:
                    self._local_event(c, ev)
                elif s == listen_fd:
                    self._accept()
        if drain:
            self._drain_workers()
        if command and self.command.getsockopt(_EVENTS) & _POLLIN:
            self._handle_command()
            self.poller.touch(self.command)  # its reply was a send: check it again

    def _flush_executor(self) -> None:
        """Write queued results to the executor; poll its pipe for POLLOUT while some wait."""
        out = self.out
        assert out is not None
        if out.pending:
            try:
                out.flush()
            except OSError:  # the executor is gone
                logger.info("The executor's process is gone (stdout closed): shutting down")
                self.stopping = True
                out.pending.clear()
        if bool(out.pending) != self._out_polled:
            self._out_polled = not self._out_polled
            if self._out_polled:
                self.poller.register(out.fd, zmq.POLLOUT)
            else:
                self.poller.unregister(out.fd)

    # ------------------------------------------------------- links to pools
    def _send(self, ident: bytes, frames: list[Any]) -> None:
        """Send a message to manager ``ident``, over its unix socket or the ROUTER socket."""
        c = self.local.get(ident)
        if c is None:
            m.send(self.workers, frames, ident)
            self.poller.touch(self.workers)  # a send may take the signal of a message waiting
        else:
            c.send(frames)

    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                logger.warning("Accepting a local worker pool failed: %s", e)
                return
            c = LocalPool(sock, self.poller)
            self.conns[c.fd] = c

    def _local_event(self, c: LocalPool, ev: int) -> None:
        try:
            msgs = c.on_event(ev)
        except LinkClosed:
            self._close_local(c)
            return
        for msg, extra in msgs:
            if c.ident is None:  # the first message: the pool's identity
                c.ident = bytes(msg)
                self.local[c.ident] = c
            else:
                self._from_manager(c.ident, msg, extra)

    def _close_local(self, c: LocalPool) -> None:
        """A local pool's connection closed: the pool is gone, now (no heartbeat wait)."""
        if self.conns.pop(c.fd, None) is None:
            return
        c.close()
        ident = c.ident
        if ident is not None and self.local.get(ident) is c:
            del self.local[ident]
            rec = self.managers.get(ident)
            if rec is not None:
                self._lose(rec, "its connection to the interchange closed")

    def _to_executor(self, frames: list[Any]) -> None:
        """Queue a message to the executor: each loop turn writes them all in one system call
        (``_flush_executor``), so the executor wakes once for a turn's results and notices."""
        out = self.out
        if out is None:  # run() has not started: nobody to tell
            return
        out.add(frames)

    def _from_executor(self, msg: Any, extra: list[Any] | None) -> None:
        tag = msg[:1]
        if tag == m.TASKS:
            meta, defs, payloads = m.decode(msg, extra)
            if defs:
                self.functions.update(defs)
            heap = self.pending
            seq = self.seq
            cancelled = self.cancelled
            for (tid, fid, priority), payload in zip(meta, payloads, strict=True):
                if cancelled and tid in cancelled:
                    cancelled.discard(tid)
                    continue
                seq += 1
                if priority is None:
                    priority = INF
                elif not self.prioritized:
                    self._stop_prefetch()
                heapq.heappush(heap, (priority, seq, tid, fid, payload))
            self.seq = seq
            if meta:
                self.max_tid = max(self.max_tid, meta[-1][0])
        elif tag == m.FORGET:
            self._forget(m.decode(msg))

    def _forget(self, fids: list[int]) -> None:
        for fid in fids:
            self.functions.pop(fid, None)
        gone = set(fids)
        for rec in self.managers.values():
            drop = rec.fids & gone
            if drop:
                rec.fids -= drop
                self._send(rec.ident, m.encode(m.FORGET, list(drop)))

    def _drain_workers(self) -> None:
        sock = self.workers
        while sock.getsockopt(_EVENTS) & _POLLIN:
            ident = sock.recv()
            msg, extra = m.recv(sock)
            self._from_manager(ident, msg, extra)

    def _from_manager(self, ident: bytes, msg: Any, extra: list[Any] | None) -> None:
        tag = msg[:1]
        rec = self.managers.get(ident)
        if rec is not None:
            rec.last_seen = time.monotonic()
        elif ident in self.lost:
            self._from_lost(ident, tag, msg)
            return
        if tag == m.RESULTS:
            tids, mean = m.result_ids(msg)
            if rec is not None:
                tasks = rec.tasks
                for tid in tids:
                    tasks.pop(tid, None)
                if not tasks:
                    rec.idle_since = time.time()
                if mean >= 0:
                    rec.mean = mean
                    if rec.probe_at is not None:
                        # a low sample is believed at once, a high one halfway (startup, a
                        # busy moment): the estimate follows the link, not its hiccups
                        sample = max(0.0, time.monotonic() - rec.probe_at - mean)
                        rec.refill = sample if rec.refill < 0 else min(sample, (rec.refill + sample) / 2)
                    if not self.prioritized:
                        rec.extra = (
                            short_task_extra(rec.worker_count, mean, rec.refill) if mean < SHORT_TASK else 0
                        )
                rec.probe_at = None
                self._update_ready(rec)
                self._to_executor([msg] if extra is None else [msg, *extra])
            else:
                logger.warning("Dropping %d results from unregistered manager %r", len(tids), ident)
        elif tag == m.HEARTBEAT:
            if rec is None:
                # a pool we never knew registered with the interchange we replaced (it died):
                # it registers with us again (pools we lost are answered by _from_lost)
                self._send(ident, [m.REGISTER])
        elif tag == m.MONITOR:
            self._to_executor([msg])
        elif tag == m.REGISTER:
            self._register(ident, m.decode(msg, extra))
        elif tag == m.DRAIN and rec is not None:
            rec.draining = True
            self._update_ready(rec)
            # after this the pool has every task we gave it: it may exit once they finish
            self._send(ident, [m.DRAIN])
        elif tag == m.STOP and rec is not None:
            self._lose(rec, "the worker pool exited")

    def _register(self, ident: bytes, info: dict[str, Any]) -> None:
        theirs = info.get("version_info", {})
        if theirs != self.version and not self.check_versions:
            logger.warning(
                "Worker pool %r has versions %s, the interchange has %s: accepted, as the "
                "executor's _check_python_mismatch is off",
                ident,
                theirs,
                self.version,
            )
        elif theirs != self.version:
            from parsl_executor_htex.errors import VersionMismatch  # imports parsl: only when needed

            where = (
                f"worker pool {ident.decode(errors='replace')} of block {info.get('block_id')} on host "
                f"{info.get('hostname', '?')}"
            )
            err = VersionMismatch.between(self.version, theirs, where)
            logger.error("%s", err)
            self._send(ident, m.encode(m.REJECT, str(err)))
            self._to_executor(m.encode(m.ERROR, err))
            return
        old = self.managers.get(ident)
        if old is not None:  # registered twice (it asked again while reconnecting): same record
            self._send(ident, [m.ACCEPT])
            return
        rec = ManagerRecord(ident, info)
        if rec.block_id in self.held_blocks:
            rec.active = False
        # a pool registering again after the interchange it knew died: the tasks it still runs
        # (their results arrive later; the executor drops them) occupy its slots
        for tid in info.get("held_tasks") or ():
            rec.tasks[tid] = -1
        if rec.tasks:
            rec.idle_since = None
        self.managers[ident] = rec
        if rec.block_id not in self.block_history:
            self.block_history.append(rec.block_id)
        self._update_ready(rec)
        self._send(ident, [m.ACCEPT])
        logger.info(
            "Registered manager %r of block %s on %s with %d workers",
            ident,
            rec.block_id,
            rec.hostname,
            rec.worker_count,
        )
        self._node_message(rec, "registered")

    def _node_message(self, rec: ManagerRecord, event: str) -> None:
        """Tell the executor (and so monitoring) about a worker pool: ``event`` is "registered",
        "dispatched" (it was given tasks), "held" or "lost"; ``tasks`` are the ids it holds."""
        info, now = rec.info, time.time()
        node = {
            "type": "node",
            "event": event,
            "uid": str(info.get("uid") or rec.ident.decode(errors="replace")),
            "manager": rec.ident.decode(errors="replace"),
            "hostname": rec.hostname,
            "block_id": rec.block_id,
            "cpu_count": int(info.get("cpu_count") or 0),
            "total_memory": int(info.get("total_memory") or 0),
            "worker_count": rec.worker_count,
            "max_capacity": rec.capacity,
            "active": rec.active and event != "lost",
            "draining": rec.draining,
            "python_v": str(info.get("python", "")),
            "parsl_v": str(info.get("parsl_v", "")),
            "tasks": list(rec.tasks),
            "idle_since": rec.idle_since,
            "start_time": info.get("start_time"),
            "timestamp": now,
            "last_heartbeat": now - (time.monotonic() - rec.last_seen),
        }
        self._to_executor(m.encode(m.MONITOR, [pickle.dumps([node], protocol=5)]))

    def _lose(self, rec: ManagerRecord, reason: str) -> None:
        if self.managers.pop(rec.ident, None) is not None:
            self._node_message(rec, "lost")
        self.ready.pop(rec.ident, None)
        if rec.tasks:
            logger.warning(
                "Manager %r of block %s lost (%s) with %d tasks",
                rec.ident,
                rec.block_id,
                reason,
                len(rec.tasks),
            )
            from parsl_executor_htex.errors import ManagerLost  # imports parsl: only when needed

            err = ManagerLost(rec.ident.decode(errors="replace"), rec.hostname, reason)
            payload = pack_exception(err)
            tids = list(rec.tasks)
            self._to_executor(m.encode_results(tids, [payload] * len(tids)))
        else:
            logger.info("Manager %r of block %s left (%s)", rec.ident, rec.block_id, reason)

    def _check_heartbeats(self, now: float) -> None:
        for rec in list(self.managers.values()):
            if now - rec.last_seen > self.hb_threshold:
                self._lose(rec, f"no heartbeat for {self.hb_threshold:g} s")
                lost = self.lost
                lost[rec.ident] = now
                if len(lost) > LOST_MEMORY:
                    del lost[next(iter(lost))]
                # it may be only stopped or suspended: if so, this waits for it
                self._send(rec.ident, [m.STOP + STOP_LOST])

    def _from_lost(self, ident: bytes, tag: bytes, msg: Any) -> None:
        """A message from a manager declared lost: its tasks were failed already (and may run
        again elsewhere), so drop what it sends and tell it, once more, to exit."""
        if tag == m.RESULTS:
            tids, _ = m.result_ids(msg)
            logger.debug(
                "Dropping %d late results from manager %r, declared lost: their tasks were failed",
                len(tids),
                ident,
            )
        elif tag == m.STOP:  # it is leaving: nothing more to say to it
            return
        else:
            logger.debug("Manager %r, declared lost, sent %r: telling it to exit", ident, bytes(tag))
        self._send(ident, [m.STOP + STOP_LOST])

    def _stop_prefetch(self) -> None:
        self.prioritized = True
        for rec in self.managers.values():
            rec.extra = 0
            self._update_ready(rec)

    def _update_ready(self, rec: ManagerRecord) -> None:
        """Keep ``self.ready`` (managers with free slots) in step with ``rec``."""
        if rec.free > 0 and rec.ident in self.managers:
            self.ready[rec.ident] = rec
        else:
            self.ready.pop(rec.ident, None)

    def _dispatch(self) -> None:
        if not self.ready:
            return
        heap = self.pending
        ready = list(self.ready.values())
        if self.selector is not None and len(ready) > 1:
            if type(self.selector) is RandomManagerSelector and len(ready) > len(heap):
                ready = random.sample(ready, len(heap))  # a shuffle, cut to the managers we can use
            else:
                ready = self.selector.sort_managers(ready)
        functions = self.functions
        batches: list[tuple[ManagerRecord, list[Any]]] = []
        dispatched: list[int] = []
        now = time.monotonic()
        for rec in ready:
            if not heap:
                break
            n = min(rec.free, len(heap))
            if not rec.tasks and rec.mean >= 0:  # idle: its next results time the round trip
                rec.probe_at = now
            meta = []
            payloads = []
            defs: dict[int, bytes] = {}
            sent = rec.fids
            tasks = rec.tasks
            for _ in range(n):
                _, _, tid, fid, payload = heapq.heappop(heap)
                if fid not in sent:
                    defs[fid] = functions[fid]
                    sent.add(fid)
                meta.append((tid, fid))
                payloads.append(payload)
                tasks[tid] = fid
                dispatched.append(tid)
            rec.idle_since = None
            self._update_ready(rec)
            batches.append((rec, m.encode(m.TASKS, (meta, defs, payloads))))
        if dispatched:
            # recorded first: should we die before a pool hears of them, the executor knows
            if self.dispatch_fd >= 0:
                self._log_dispatched(dispatched)
            if self.dispatch_notices:
                self._to_executor([m.DISPATCHED + array("q", dispatched).tobytes()])
                self._flush_executor()
        for rec, frames in batches:
            self._send(rec.ident, frames)
            if self.node_updates:
                self._node_message(rec, "dispatched")

    # ------------------------------------------------------------- dispatch log
    def _log_dispatched(self, tids: list[int]) -> None:
        """Append ``tids`` to the dispatch log (8 bytes each, native order); keep it short."""
        try:
            write_all(self.dispatch_fd, array("q", tids).tobytes())
        except OSError as e:
            self._dispatch_log_failed(e)
            return
        self.dispatch_logged += len(tids)
        if self.dispatch_logged > self.dispatch_compact_at and self.out is not None and not self.out.pending:
            self._compact_dispatch_log()

    def _compact_dispatch_log(self) -> None:
        """Replace the log with the tasks pools hold now (a new file renamed over it).

        Only with no result waiting to be written to the executor: a task whose result has
        left us is finished for the executor, and one still held by a pool is in ``rec.tasks``;
        a result still queued here would be neither. A crash before the rename leaves the old,
        complete log.
        """
        assert self.dispatch_path is not None
        live = array("q")
        for rec in self.managers.values():
            live.extend(rec.tasks)
        tmp = self.dispatch_path + ".new"
        try:
            fd = os.open(tmp, _LOG_FLAGS | os.O_TRUNC, 0o600)
            try:
                write_all(fd, live.tobytes())
                os.rename(tmp, self.dispatch_path)
            except OSError:
                os.close(fd)
                raise
        except OSError as e:
            self._dispatch_log_failed(e)
            return
        os.close(self.dispatch_fd)
        self.dispatch_fd = fd
        self.dispatch_logged = len(live)
        self.dispatch_compact_at = 2 * len(live) + self.dispatch_slack

    def _dispatch_log_failed(self, error: OSError) -> None:
        """The log cannot be written (a full disk): tell the executor on its pipe from now on.

        Pools hold no task this log missed: each dispatch writes the log before its send.
        """
        logger.warning(
            "Cannot write the dispatch log %s (%s): telling the executor about each dispatch instead",
            self.dispatch_path,
            error,
        )
        if self.dispatch_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.dispatch_fd)
        self.dispatch_fd = -1
        self.dispatch_notices = True  # the executor reads what the file holds and these notices

    # -------------------------------------------------------------- commands
    def _handle_command(self) -> None:
        name, args = pickle.loads(self.command.recv())
        try:
            reply: Any = getattr(self, f"cmd_{name}")(*args)
        except Exception as e:
            logger.exception("Command %s failed", name)
            reply = e
        self.command.send(m.pack(reply))

    def cmd_connected_managers(self) -> list[dict[str, Any]]:
        return [r.describe() for r in self.managers.values()]

    def cmd_connected_managers_packages(self) -> dict[str, dict[str, str]]:
        return {
            r.ident.decode(errors="replace"): dict(r.info.get("packages") or {})
            for r in self.managers.values()
        }

    def cmd_connected_blocks(self) -> list[str]:
        """Every block a worker pool ever registered from, connected now or not (Parsl's history)."""
        return list(self.block_history)

    def cmd_connected_workers(self) -> int:
        return sum(r.worker_count for r in self.managers.values())

    def cmd_outstanding(self) -> int:
        return len(self.pending) + sum(len(r.tasks) for r in self.managers.values())

    def cmd_worker_port(self) -> int:
        return self._ports[self.workers]

    def cmd_hold_worker(self, manager: str) -> bool:
        rec = self.managers.get(manager.encode())
        if rec is None:
            return False
        rec.active = False
        self._update_ready(rec)
        self._node_message(rec, "held")
        return True

    def cmd_hold_blocks(self, block_ids: list[str]) -> list[str]:
        """Stop giving tasks to these blocks' managers; return the ids of those managers."""
        self.held_blocks.update(str(b) for b in block_ids)
        held = []
        for rec in self.managers.values():
            if rec.block_id in self.held_blocks:
                if rec.active:
                    rec.active = False
                    self._update_ready(rec)
                    self._node_message(rec, "held")
                held.append(rec.ident.decode())
        return held

    def cmd_cancel(self, tid: int) -> bool:
        """Withdraw task ``tid`` if no worker pool has it yet; True if it will never run.

        Commands travel apart from tasks, so the task may still be in our stdin pipe: a task id
        above any we have read is remembered and dropped when it arrives. Tasks already sent to
        a pool (running, or prefetched into its queue) are not withdrawn."""
        if tid > self.max_tid:
            self.cancelled.add(tid)
            return True
        heap = self.pending
        for i, entry in enumerate(heap):
            if entry[2] == tid:
                last = heap.pop()
                if i < len(heap):
                    heap[i] = last
                    heapq.heapify(heap)
                return True
        return False

    def cmd_shutdown(self) -> bool:
        self.stopping = True
        return True

    # -------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        for ident in list(self.managers):
            if ident in self.local:
                continue
            try:
                self.workers.send_multipart([ident, m.STOP], zmq.NOBLOCK)
            except zmq.ZMQError as e:  # its queue is full: the pool stops on its missed heartbeats
                logger.debug("Could not send STOP to manager %r: %s", ident, e)
        for c in list(self.conns.values()):  # local pools: STOP if it fits now, then end of file
            c.send([m.STOP])
            c.close()
        self.conns.clear()
        self.local.clear()
        if self.listener is not None:
            self.listener.close()
            if self.local_path:
                try:
                    os.unlink(self.local_path)
                except OSError as e:  # the executor removes the directory in any case
                    logger.debug("Could not remove the local pools' socket %s: %s", self.local_path, e)
        # give the STOP messages a moment to leave before the sockets close
        self.workers.setsockopt(zmq.LINGER, 200)
        if self.auth is not None:
            self.auth.stop()
        self.ctx.destroy(linger=200)
        logger.info("Interchange stopped")


def _read_config(fd: int) -> dict[str, Any]:
    header = b""
    while len(header) < 8:
        chunk = os.read(fd, 8 - len(header))
        if not chunk:
            raise SystemExit("interchange: no configuration on stdin")
        header += chunk
    (size,) = struct.unpack("<Q", header)
    body = b""
    while len(body) < size:
        chunk = os.read(fd, size - len(body))
        if not chunk:
            raise SystemExit("interchange: configuration truncated")
        body += chunk
    config: dict[str, Any] = pickle.loads(body)
    return config


def _setup_logging(config: dict[str, Any]) -> None:
    logdir = config.get("logdir")
    level = logging.DEBUG if config.get("debug") else logging.INFO
    handler: logging.Handler
    if logdir:
        os.makedirs(logdir, exist_ok=True)
        handler = logging.FileHandler(os.path.join(logdir, "interchange.log"))
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s.%(msecs)03d %(name)s:%(lineno)d %(processName)s(%(process)d) "
            "%(threadName)s %(funcName)s [%(levelname)s] %(message)s",
            "%Y-%m-%d %H:%M:%S",
        )
    )
    root = logging.getLogger("parsl_executor_htex")
    root.addHandler(handler)
    root.setLevel(level)


def main() -> None:
    """Entry point: ``python -m parsl_executor_htex.interchange`` (configuration on stdin)."""
    stdin_fd = sys.stdin.fileno()
    config = _read_config(stdin_fd)
    _setup_logging(config)
    try:
        ix = Interchange(config)
    except Exception as e:
        logger.exception("Interchange failed to start")
        print(f"ERROR {type(e).__name__}: {e}", flush=True)
        raise SystemExit(1) from e
    print("READY " + " ".join(f"{k}={v}" for k, v in ix.ports().items()), flush=True)
    logger.info("Interchange %d on %s listening: %s", os.getpid(), socket.gethostname(), ix.ports())
    # stdout now carries results: keep it to ourselves, and send stray prints to stderr
    out_fd = os.dup(1)
    os.dup2(2, 1)
    ix.run(stdin_fd, out_fd)


if __name__ == "__main__":
    main()
