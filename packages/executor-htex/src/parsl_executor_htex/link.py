"""One end of the unix stream link between the interchange and a worker pool on its host.

Both ends (the interchange's ``LocalPool``, the pool's ``Manager``) run a single-threaded
``zmq.Poller`` loop and must never block on the other: :class:`FramedLink` wraps the
connected socket with the pipe framing of ``messages.FrameReader`` / ``FrameWriter``,
registers it with the owner's poller and asks for POLLOUT only while a message waits to
leave. A closed connection raises :class:`LinkClosed` from :meth:`FramedLink.on_event`, so
the owner learns at once that the other side is gone (no heartbeat wait).
"""

from __future__ import annotations

import logging
import select
import socket
import time
from typing import Any

import zmq

from parsl_executor_htex.messages import FrameReader, FrameWriter

__all__ = ["SOCKET_BUFFER", "FdPoller", "FramedLink", "LinkClosed", "set_buffers"]

logger = logging.getLogger(__name__)

#: send/receive buffer asked for each end of the socket (bulk data in fewer wake-ups)
SOCKET_BUFFER = 1 << 20

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)


_SELECT_IN = select.POLLIN | select.POLLPRI
_SELECT_OUT = select.POLLOUT
_SELECT_ERR = select.POLLERR | select.POLLHUP | select.POLLNVAL
_EVENTS = int(zmq.EVENTS)
_FD = int(zmq.FD)


class FdPoller:
    """``zmq.Poller``'s interface (registrations and events in ZeroMQ's flags) over ``select.poll``.

    ``zmq.Poller.poll`` asks every registered ZeroMQ socket for its events before and after
    it waits (two system calls each, per call), even when only file descriptors are busy. Here
    a ZeroMQ socket is polled through its ``ZMQ_FD``, which becomes readable when the socket
    has something to process, and is reported as ``(socket, POLLIN)`` when that fd is; the
    owner then reads it while ``getsockopt(EVENTS)`` says POLLIN, which also re-arms the fd.
    That fd is edge-triggered: any other call on the socket (a send) may consume its signal
    while a message waits, so after such calls the owner calls :meth:`touch`, and the next
    :meth:`poll` checks that socket's events itself before waiting.
    """

    __slots__ = ("_dirty", "_fds", "_poll", "_socks")

    def __init__(self) -> None:
        self._poll = select.poll()
        self._socks: dict[int, zmq.Socket] = {}  # ZMQ_FD -> socket
        self._fds: dict[int, Any] = {}  # fd -> what was registered (an int, or an object with fileno)
        self._dirty: list[zmq.Socket] = []

    def register(self, obj: Any, flags: int = _POLLIN | _POLLOUT) -> None:
        if isinstance(obj, zmq.Socket):
            if flags & ~_POLLIN:
                raise ValueError("FdPoller polls ZeroMQ sockets for POLLIN only")
            fd = obj.getsockopt(_FD)
            self._socks[fd] = obj
            self._poll.register(fd, select.POLLIN)
            self._dirty.append(obj)  # messages may already wait
            return
        fd = obj if isinstance(obj, int) else obj.fileno()
        mask = (_SELECT_IN if flags & _POLLIN else 0) | (_SELECT_OUT if flags & _POLLOUT else 0)
        self._fds[fd] = obj
        self._poll.register(fd, mask)

    def unregister(self, obj: Any) -> None:
        """Stop polling ``obj``; KeyError if it was not registered (as ``zmq.Poller``)."""
        if isinstance(obj, zmq.Socket):
            fd = obj.getsockopt(_FD)
            del self._socks[fd]
            if obj in self._dirty:
                self._dirty.remove(obj)
        else:
            fd = obj if isinstance(obj, int) else obj.fileno()
            del self._fds[fd]
        self._poll.unregister(fd)

    def touch(self, sock: zmq.Socket) -> None:
        """``sock`` was used (sent on): check its events at the next :meth:`poll`."""
        if sock not in self._dirty:
            self._dirty.append(sock)

    def poll(self, timeout: int | None = None) -> list[tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None: forever); ``[(registered object, zmq flags), ...]``."""
        ready: list[tuple[Any, int]] = []
        dirty = self._dirty
        if dirty:
            for sock in dirty:
                if sock.getsockopt(_EVENTS) & _POLLIN:
                    ready.append((sock, _POLLIN))
            dirty.clear()
            if ready:
                timeout = 0
        socks, fds = self._socks, self._fds
        for fd, ev in self._poll.poll(timeout):
            sock = socks.get(fd)
            if sock is not None:
                if (sock, _POLLIN) not in ready:
                    ready.append((sock, _POLLIN))
                continue
            obj = fds.get(fd, fd)
            flags = (_POLLIN if ev & (_SELECT_IN | _SELECT_ERR) else 0) | (
                _POLLOUT if ev & _SELECT_OUT else 0
            )
            ready.append((obj, flags))
        return ready


class LinkClosed(EOFError):
    """The other end closed the connection (or it broke): the peer is gone."""


def set_buffers(sock: socket.socket, size: int = SOCKET_BUFFER) -> None:
    """Ask for ``size``-byte kernel buffers on ``sock``; the kernel's default stays if refused."""
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, size)
        except OSError as e:
            logger.debug("Keeping the default socket buffer (%s refused: %s)", opt, e)


class FramedLink:
    """A connected unix stream socket carrying framed messages, driven by a ``zmq.Poller``.

    :meth:`send` never blocks: what the socket cannot take now waits in the writer, and the
    link registers for POLLOUT until it has left. The owner passes the poll events of
    :attr:`fd` to :meth:`on_event`, which returns the messages that arrived.
    """

    __slots__ = ("fd", "out_polled", "poller", "reader", "sock", "writer")

    def __init__(self, sock: socket.socket, poller: zmq.Poller | FdPoller):
        sock.setblocking(False)
        self.sock = sock
        self.fd = sock.fileno()
        self.reader = FrameReader(self.fd)
        self.writer = FrameWriter(self.fd)
        self.poller = poller
        self.out_polled = False  # registered for POLLOUT as well as POLLIN
        poller.register(self.fd, _POLLIN)

    def send(self, frames: list[Any]) -> None:
        """Queue one message; a broken connection drops it (the next read reports the close)."""
        if self.fd < 0:
            logger.debug("Dropping a message to a link already closed")
            return
        w = self.writer
        try:
            w.send(frames)
        except OSError as e:
            logger.debug("Dropping a message to a closed link (fd %d): %s", self.fd, e)
            w.pending.clear()
            return
        if w.pending and not self.out_polled and self.fd >= 0:
            self.out_polled = True
            self.poller.register(self.fd, _POLLIN | _POLLOUT)

    def on_event(self, ev: int) -> list[tuple[Any, list[Any] | None]]:
        """Handle poll events ``ev`` of :attr:`fd`: flush, read; return the messages that arrived.

        Raises LinkClosed when the other end is gone."""
        if ev & _POLLOUT:
            try:
                done = self.writer.flush()
            except OSError as e:
                raise LinkClosed(str(e)) from e
            if done and self.out_polled:
                self.out_polled = False
                self.poller.register(self.fd, _POLLIN)
        if not ev & ~_POLLOUT:
            return []
        # readable, or an error / hang-up that the read reports
        try:
            return self.reader.read()
        except (BlockingIOError, InterruptedError):
            return []
        except EOFError as e:
            raise LinkClosed("the other end closed the connection") from e
        except OSError as e:
            raise LinkClosed(str(e)) from e

    def finish(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for queued messages to leave; True if all did."""
        deadline = time.monotonic() + timeout
        w = self.writer
        while w.pending and self.fd >= 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                select.select([], [self.fd], [], left)
                w.flush()
            except OSError as e:
                logger.debug("Giving up on %d queued frames: %s", len(w.pending), e)
                return False
        return not w.pending

    def close(self) -> None:
        """Stop polling the socket and close it (idempotent)."""
        if self.fd < 0:
            return
        try:
            self.poller.unregister(self.fd)
        except KeyError:
            logger.debug("fd %d was not registered with the poller", self.fd)
        self.sock.close()
        self.fd = -1
