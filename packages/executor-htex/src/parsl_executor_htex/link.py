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

__all__ = ["SOCKET_BUFFER", "FramedLink", "LinkClosed", "set_buffers"]

logger = logging.getLogger(__name__)

#: send/receive buffer asked for each end of the socket (bulk data in fewer wake-ups)
SOCKET_BUFFER = 1 << 20

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)


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

    def __init__(self, sock: socket.socket, poller: zmq.Poller):
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
