"""The interchange: one process between the workflow's executor and the worker pools.

Started by the executor as ``python -m parsl_executor_htex.interchange``; it reads its
configuration (a pickled dict) from stdin, binds its sockets, prints one ``READY`` line
with the ports on stdout and runs a single-threaded ZeroMQ loop:

* tasks from the executor wait in a priority heap until some manager has a free slot;
* managers get tasks in batches, with the bytes of any function they have not seen yet;
* results from managers are forwarded to the executor frame for frame, unparsed;
* managers that stop heartbeating are declared lost and their tasks fail with ManagerLost.

Its stdin stays open for the executor's lifetime: end of file means the workflow process is
gone, and the interchange stops its managers and exits.
"""
from __future__ import annotations

import heapq
import logging
import os
import pickle
import socket
import struct
import sys
import time
from typing import Any

import zmq

from parsl_executor_htex import messages as m
from parsl_executor_htex.errors import ManagerLost, VersionMismatch
from parsl_executor_htex.serialize import pack_exception

logger = logging.getLogger("parsl_executor_htex.interchange")

__all__ = ["Interchange", "main"]

INF = float("inf")


class ManagerRecord:
    """What the interchange knows about one connected worker pool."""

    __slots__ = (
        "active",
        "block_id",
        "capacity",
        "draining",
        "fids",
        "hostname",
        "ident",
        "idle_since",
        "info",
        "last_seen",
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
        self.tasks: dict[int, int] = {}  # tid -> fid
        self.fids: set[int] = set()
        self.last_seen = time.monotonic()
        self.active = True
        self.draining = False
        self.registered = time.time()
        self.idle_since: float | None = time.time()

    @property
    def free(self) -> int:
        return self.capacity - len(self.tasks) if self.active and not self.draining else 0

    def describe(self) -> dict[str, Any]:
        return {"manager": self.ident.decode(errors="replace"), "block_id": self.block_id,
                "hostname": self.hostname, "worker_count": self.worker_count, "tasks": len(self.tasks),
                "idle_duration": (time.time() - self.idle_since) if self.idle_since else 0.0,
                "active": self.active, "draining": self.draining,
                "python_version": self.info.get("python"), "parsl_version": self.info.get("version"),
                "timestamp": self.registered}


class Interchange:
    """The interchange's state and event loop."""

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.hb_period = float(config["heartbeat_period"])
        self.hb_threshold = float(config["heartbeat_threshold"])
        self.poll_ms = max(1, int(config.get("poll_period", 10)))
        self.selector = config.get("manager_selector")
        self.version = m.version_info()
        self.pending: list[tuple[float, int, int, int, Any]] = []
        self.seq = 0
        self.functions: dict[int, bytes] = {}
        self.managers: dict[bytes, ManagerRecord] = {}
        self.held_blocks: set[str] = set()
        self.stopping = False
        self.ctx = zmq.Context()
        self._ports: dict[zmq.Socket, int] = {}
        self.auth = None
        cert_dir = config.get("cert_dir") if config.get("encrypted") else None
        if cert_dir:
            from parsl_executor_htex.curve import start_authenticator
            self.auth = start_authenticator(self.ctx, cert_dir)
        self.task_in = self._bind(zmq.PULL, config["loopback_address"], config["interchange_port_range"])
        self.result_out = self._bind(zmq.PUSH, config["loopback_address"], config["interchange_port_range"])
        self.command = self._bind(zmq.REP, config["loopback_address"], config["interchange_port_range"])
        ports = config.get("worker_ports")
        self.workers = self._bind(zmq.ROUTER, config.get("worker_interface", "*"),
                                  config["worker_port_range"], fixed=ports[0] if ports else None)
        self.workers.setsockopt(zmq.ROUTER_HANDOVER, 1)

    def _bind(self, kind: int, interface: str, port_range: tuple[int, int], fixed: int | None = None
              ) -> zmq.Socket:
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        if self.config.get("encrypted"):
            from parsl_executor_htex.curve import make_server
            make_server(sock, self.config["cert_dir"])
        if ":" in interface and not interface.startswith("["):
            sock.setsockopt(zmq.IPV6, 1)
            interface = f"[{interface}]"
        if fixed is not None:
            sock.bind(f"tcp://{interface}:{fixed}")
            port = fixed
        else:
            lo, hi = port_range if port_range else (0, 0)
            if lo or hi:
                port = sock.bind_to_random_port(f"tcp://{interface}", lo, hi, 1000)
            else:
                sock.bind(f"tcp://{interface}:0")
                port = int(sock.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
        self._ports[sock] = port
        return sock

    def ports(self) -> dict[str, int]:
        return {name: self._ports[getattr(self, name)] for name in ("task_in", "result_out", "command", "workers")}

    # ------------------------------------------------------------------ loop
    def run(self, stdin_fd: int | None) -> None:
        poller = zmq.Poller()
        poller.register(self.task_in, zmq.POLLIN)
        poller.register(self.workers, zmq.POLLIN)
        poller.register(self.command, zmq.POLLIN)
        if stdin_fd is not None:
            poller.register(stdin_fd, zmq.POLLIN)
        next_beat = time.monotonic() + self.hb_period
        next_check = time.monotonic() + min(1.0, self.hb_period)
        while not self.stopping:
            events = poller.poll(self.poll_ms if self.pending else 200)
            if events:
                self._drain_workers()
                self._drain_tasks()
                if self.command.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    self._handle_command()
            if stdin_fd is not None and events and any(s == stdin_fd for s, _ in events):
                if not os.read(stdin_fd, 4096):
                    logger.info("The executor's process is gone (stdin closed): shutting down")
                    self.stopping = True
            if self.pending:
                self._dispatch()
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.hb_period
                for ident in list(self.managers):
                    self.workers.send_multipart([ident, m.HEARTBEAT])
            if now >= next_check:
                next_check = now + min(1.0, self.hb_period)
                self._check_heartbeats(now)
        self.shutdown()

    def _drain_tasks(self) -> None:
        sock = self.task_in
        while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            msg = sock.recv()
            tag = msg[:1]
            if tag == m.TASKS:
                meta, defs, payloads = m.decode(msg)
                if defs:
                    self.functions.update(defs)
                heap = self.pending
                seq = self.seq
                for (tid, fid, priority), payload in zip(meta, payloads):
                    seq += 1
                    heapq.heappush(heap, (INF if priority is None else priority, seq, tid, fid, payload))
                self.seq = seq
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
                self.workers.send_multipart([rec.ident, m.encode(m.FORGET, list(drop))])

    def _drain_workers(self) -> None:
        sock = self.workers
        while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            ident, msg = sock.recv_multipart()
            tag = msg[:1]
            rec = self.managers.get(ident)
            if rec is not None:
                rec.last_seen = time.monotonic()
            if tag == m.RESULTS:
                tids = m.decode(msg)[0]
                if rec is not None:
                    for tid in tids:
                        rec.tasks.pop(tid, None)
                    if not rec.tasks:
                        rec.idle_since = time.time()
                    self.result_out.send(msg)
                else:
                    logger.warning("Dropping %d results from unregistered manager %r", len(tids), ident)
            elif tag == m.HEARTBEAT:
                if rec is None:
                    sock.send_multipart([ident, m.STOP])
            elif tag == m.REGISTER:
                self._register(ident, m.decode(msg))
            elif tag == m.DRAIN and rec is not None:
                rec.draining = True
                # after this the pool has every task we gave it: it may exit once they finish
                sock.send_multipart([ident, m.DRAIN])
            elif tag == m.STOP:
                if rec is not None:
                    self._lose(rec, "the worker pool exited")

    def _register(self, ident: bytes, info: dict[str, Any]) -> None:
        theirs = info.get("version_info", {})
        if theirs != self.version:
            where = f"worker pool {ident.decode(errors='replace')} of block {info.get('block_id')} on host " \
                    f"{info.get('hostname', '?')}"
            logger.error("%s has versions %s, the interchange has %s", where, theirs, self.version)
            err = VersionMismatch(_versions(self.version), f"{_versions(theirs)} ({where})")
            self.workers.send_multipart([ident, m.encode(m.REJECT, str(err))])
            self.result_out.send(m.encode(m.ERROR, err))
            return
        rec = ManagerRecord(ident, info)
        if rec.block_id in self.held_blocks:
            rec.active = False
        self.managers[ident] = rec
        self.workers.send_multipart([ident, m.ACCEPT])
        logger.info("Registered manager %r of block %s on %s with %d workers", ident, rec.block_id,
                    rec.hostname, rec.worker_count)

    def _lose(self, rec: ManagerRecord, reason: str) -> None:
        self.managers.pop(rec.ident, None)
        if rec.tasks:
            logger.warning("Manager %r of block %s lost (%s) with %d tasks", rec.ident, rec.block_id,
                           reason, len(rec.tasks))
            err = ManagerLost(rec.ident.decode(errors="replace"), rec.hostname, reason)
            payload = pack_exception(err)
            tids = list(rec.tasks)
            self.result_out.send(m.encode(m.RESULTS, (tids, [payload] * len(tids))))
        else:
            logger.info("Manager %r of block %s left (%s)", rec.ident, rec.block_id, reason)

    def _check_heartbeats(self, now: float) -> None:
        for rec in list(self.managers.values()):
            if now - rec.last_seen > self.hb_threshold:
                self._lose(rec, f"no heartbeat for {self.hb_threshold:g} s")
                self.workers.send_multipart([rec.ident, m.STOP])

    def _dispatch(self) -> None:
        ready = [r for r in self.managers.values() if r.free > 0]
        if not ready:
            return
        if self.selector is not None and len(ready) > 1:
            ready = self.selector.sort_managers(ready)
        heap = self.pending
        functions = self.functions
        for rec in ready:
            if not heap:
                break
            n = min(rec.free, len(heap))
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
            rec.idle_since = None
            self.workers.send_multipart([rec.ident, m.encode(m.TASKS, (meta, defs, payloads))])

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
        return True

    def cmd_hold_blocks(self, block_ids: list[str]) -> list[str]:
        """Stop giving tasks to these blocks' managers; return the ids of those managers."""
        self.held_blocks.update(str(b) for b in block_ids)
        held = []
        for rec in self.managers.values():
            if rec.block_id in self.held_blocks:
                rec.active = False
                held.append(rec.ident.decode())
        return held

    def cmd_shutdown(self) -> bool:
        self.stopping = True
        return True

    # -------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        for ident in list(self.managers):
            try:
                self.workers.send_multipart([ident, m.STOP], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        # give the STOP messages a moment to leave before the sockets close
        self.workers.setsockopt(zmq.LINGER, 200)
        if self.auth is not None:
            self.auth.stop()
        self.ctx.destroy(linger=200)
        logger.info("Interchange stopped")


def _versions(info: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(info.items())) or "none reported"


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
    handler.setFormatter(logging.Formatter(
        "%(asctime)s.%(msecs)03d %(name)s:%(lineno)d %(processName)s(%(process)d) "
        "%(threadName)s %(funcName)s [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
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
    ix.run(stdin_fd)


if __name__ == "__main__":
    main()
