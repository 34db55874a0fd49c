"""Message tags, framing and version info shared by the executor, interchange, managers and workers.

A message is a one-byte tag followed by a pickled body, in one ZeroMQ frame (plus the peer
identity on ROUTER sockets): a multipart send and receive costs about ten times a
single-frame one in pyzmq, so small messages stay single frames. Bulk data (task arguments
and results of 64 KiB and more, see ``serialize.py``) travels as :class:`Blob` objects: the
body is pickled with protocol 5 and each blob becomes an extra frame sent with
``copy=False``. The interchange and the managers re-pickle the small body and pass the blob
frames on untouched, so a 10 MB argument is never copied by them.

Result batches (``RESULTS``) carry their task ids in a fixed header before the pickle, so the
interchange learns which tasks finished without unpickling anything, and forwards the frames
to the executor byte for byte.

Telemetry (monitoring messages from inside tasks) rides with the results: a worker appends a
task's last monitoring messages to its result (one pipe write), and a pool puts every
monitoring message gathered since its last flush into the telemetry section of its next
``RESULTS`` message, as the workers' pickles laid end to end (never unpickled on the way). A
pool sends a separate ``MONITOR`` message only when it has telemetry and no result to send
(samples of a long task while it runs), so monitoring adds no message per task.
"""

from __future__ import annotations

import io
import os
import pickle
import platform
import struct
import sys
from array import array
from collections import deque
from typing import Any

__all__ = [
    "ACCEPT",
    "DISPATCHED",
    "DRAIN",
    "ERROR",
    "FORGET",
    "HEARTBEAT",
    "MONITOR",
    "PAYLOAD_FID",
    "READY",
    "REGISTER",
    "REJECT",
    "RESULTS",
    "STOP",
    "TASKS",
    "WORKER_IPC",
    "WORKER_RESULT",
    "Blob",
    "FrameReader",
    "FrameWriter",
    "PayloadTask",
    "decode",
    "decode_all_telemetry",
    "decode_results",
    "decode_telemetry",
    "encode",
    "encode_results",
    "load_telemetry",
    "pack",
    "read_frames",
    "recv",
    "result_ids",
    "send",
    "unpack",
    "version_info",
    "write_frames",
]

# executor -> interchange: T (meta [(tid, fid, priority)], defs {fid: bytes}, [payload])
# interchange -> manager:  T (meta [(tid, fid)], defs, [payload])
# manager -> worker:       T (tid, fid, function bytes or None, payload)
TASKS = b"T"
FORGET = b"F"  # F [fid...]: the function is gone; drop its cached bytes
STOP = b"S"  # S: shut down now (or, from a manager: I am leaving)
# manager -> interchange -> executor: R + RESULTS_HEADER + tids + telemetry + pickled [payload...]
# worker -> manager: R + WORKER_RESULT + telemetry + payload head (+ blob frames)
RESULTS = b"R"
ERROR = b"E"  # interchange -> executor: E exception: the executor is unusable
# manager -> interchange: G info; interchange -> manager: G alone, "register again" (this
# interchange replaced the one the pool registered with, which died)
REGISTER = b"G"
HEARTBEAT = b"H"  # both ways between manager and interchange
DRAIN = b"D"  # manager -> interchange: take no more tasks; interchange -> manager: none will come
ACCEPT = b"A"  # interchange -> manager: registration accepted
# interchange -> executor, before the tasks leave for the pools: N + task ids (array "q"), one
# message per dispatch round; after a lost interchange these tasks count as a try
# (see HighThroughputExecutor._recover)
DISPATCHED = b"N"
REJECT = b"X"  # interchange -> manager: X reason (version mismatch)
READY = b"Y"  # worker -> manager: Y + rank
# Monitoring messages from inside tasks and about worker pools (see the parsl_executor_reported hook):
# worker -> manager:       M + WORKER_RESULT + pickled [dict, ...]   (a task's last ones ride
#                          in its RESULTS message instead)
# manager -> interchange:  M [pickled [dict, ...], ...]   (only when no result goes with them:
#                          otherwise they are the telemetry section of the RESULTS message)
# interchange -> executor: the same, plus the interchange's own "node" messages
MONITOR = b"M"

#: function id of tasks submitted with ``submit_payload``: no function travels, every manager and
#: worker "knows" it from the start (see :class:`PayloadTask`)
PAYLOAD_FID = 0

#: name of the interchange's unix stream socket for local worker pools (see ``link.py``), in the
#: certificate directory
WORKER_IPC = "workers.ipc"


def version_info() -> dict[str, str]:
    """What must match between the workflow's side and the worker pools."""
    from parsl_executor_htex import __version__

    return {
        "python": "{}.{}".format(*sys.version_info[:2]),
        "parsl-executor-htex": __version__,
        "platform": platform.system(),
    }


class Blob:
    """Bulk bytes that travel as their own zero-copy frame (see the module docstring)."""

    __slots__ = ("buf",)

    def __init__(self, buf: Any):
        self.buf = buf

    def __reduce_ex__(self, protocol: int) -> Any:
        return Blob, (pickle.PickleBuffer(self.buf),)


class PayloadTask:
    """A task from ``HighThroughputExecutor.submit_payload``: bytes serialized by the submitter,
    run on the worker by the function named in ``context["task_executor"]`` (or, without one,
    unpacked as ``parsl.serialize.pack_apply_message`` output). Travels as the task's payload
    with function id :data:`PAYLOAD_FID`; a large ``buffer`` is a :class:`Blob`."""

    __slots__ = ("buffer", "context")

    def __init__(self, context: dict[str, Any], buffer: Any):
        self.context = context
        self.buffer = buffer

    def __reduce__(self) -> Any:
        return PayloadTask, (self.context, self.buffer)


def pack(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


unpack = pickle.loads


def encode(tag: bytes, body: Any) -> list[Any]:
    """The frames of a message: ``tag`` + pickled ``body``, then one frame per :class:`Blob`."""
    frames: list[Any] = [b""]
    frames[0] = tag + pickle.dumps(body, protocol=5, buffer_callback=frames.append)
    return frames


def decode(msg: Any, extra: list[Any] | None = None) -> Any:
    """The body of a message made by :func:`encode`, given its first frame and the others."""
    return pickle.loads(memoryview(msg)[1:], buffers=extra)


def send(sock: Any, frames: list[Any], ident: bytes | None = None) -> None:
    """Send frames from :func:`encode` (to peer ``ident`` on a ROUTER socket)."""
    if ident is not None:
        frames = [ident, *frames]
    if len(frames) == 1:
        sock.send(frames[0])
    else:
        sock.send_multipart(frames, copy=False)


def recv(sock: Any) -> tuple[bytes, list[Any] | None]:
    """Receive one message: its first frame, and its other frames (zero-copy) or None."""
    msg = sock.recv()
    return msg, (sock.recv_multipart(copy=False) if sock.rcvmore else None)


#: manager -> interchange result batch header after the tag: number of task ids, the pool's
#: recent mean task duration in seconds (negative: unknown), which drives prefetching, and the
#: size of the telemetry section that follows the task ids (see the module docstring)
RESULTS_HEADER = struct.Struct("<IdI")


def encode_results(
    tids: list[int], payloads: list[Any], mean_seconds: float = -1.0, telemetry: bytes = b""
) -> list[Any]:
    """A RESULTS message: the task ids and ``mean_seconds`` in a fixed header, then ``telemetry``
    (pickled lists of monitoring messages, end to end; see :func:`load_telemetry`), then the
    payloads pickled."""
    frames: list[Any] = [b""]
    frames[0] = b"".join(
        (
            RESULTS,
            RESULTS_HEADER.pack(len(tids), mean_seconds, len(telemetry)),
            array("q", tids).tobytes(),
            telemetry,
            pickle.dumps(payloads, protocol=5, buffer_callback=frames.append),
        )
    )
    return frames


def result_ids(msg: bytes) -> tuple[list[int], float]:
    """The task ids and mean task seconds of a RESULTS message, read without unpickling."""
    n, mean, _ = RESULTS_HEADER.unpack_from(msg, 1)
    start = 1 + RESULTS_HEADER.size
    return array("q", msg[start : start + 8 * n]).tolist(), mean


def decode_results(msg: Any, extra: list[Any] | None = None) -> tuple[list[int], list[Any]]:
    """``(tids, payloads)`` of a RESULTS message."""
    n, _, size = RESULTS_HEADER.unpack_from(msg, 1)
    start = 1 + RESULTS_HEADER.size
    tids = array("q", msg[start : start + 8 * n]).tolist()
    return tids, pickle.loads(memoryview(msg)[start + 8 * n + size :], buffers=extra)


def decode_telemetry(msg: Any) -> list[Any]:
    """The monitoring messages in the telemetry section of a RESULTS message (often none)."""
    n, _, size = RESULTS_HEADER.unpack_from(msg, 1)
    if not size:
        return []
    start = 1 + RESULTS_HEADER.size + 8 * n
    return load_telemetry(memoryview(msg)[start : start + size])


def decode_all_telemetry(messages: list[Any]) -> list[Any]:
    """The monitoring messages of every RESULTS message in ``messages`` (other messages are
    skipped), in order, as one list: one read of the sections joined, not one per message."""
    sections = []
    start_of = 1 + RESULTS_HEADER.size
    for msg in messages:
        if msg[:1] == RESULTS:
            n, _, size = RESULTS_HEADER.unpack_from(msg, 1)
            if size:
                start = start_of + 8 * n
                sections.append(memoryview(msg)[start : start + size])
    if not sections:
        return []
    return load_telemetry(sections[0] if len(sections) == 1 else b"".join(sections))


def load_telemetry(section: Any) -> list[Any]:
    """The items of pickled lists laid end to end in ``section``, as one list."""
    out: list[Any] = []
    f = io.BytesIO(section)
    end = len(section)
    load = pickle.load
    while f.tell() < end:
        out.extend(load(f))
    return out


#: worker -> manager result header after the tag: rank, task id, and the size of the telemetry
#: (a pickled list of monitoring messages, or nothing) that comes before the result payload
WORKER_RESULT = struct.Struct("<iqI")


# ---------------------------------------------------------------- pipes
# A manager talks to each of its workers over two OS pipes, not ZeroMQ: one wake-up per
# message instead of three (ZeroMQ passes every message through an I/O thread on each side),
# which matters when the processes sit on different CPUs. A message on a pipe is its frame
# count and the length of each frame, then the frames.
_PIPE_HEAD = struct.Struct("<IQ")  # number of frames, length of the first


def write_frames(fd: int, frames: list[Any]) -> None:
    """Write one message (the frames of :func:`encode`) to a blocking pipe."""
    views = [memoryview(f).cast("B") for f in frames]
    parts: list[Any] = [_PIPE_HEAD.pack(len(views), views[0].nbytes)]
    if len(views) > 1:
        parts.append(array("Q", [v.nbytes for v in views[1:]]).tobytes())
    parts += views
    while parts:
        done = os.writev(fd, parts)
        while parts and done >= len(parts[0]):
            done -= len(parts[0])
            parts.pop(0)
        if done:
            parts[0] = memoryview(parts[0])[done:]


def _read_exact(fd: int, n: int) -> Any:
    data = os.read(fd, n)
    if len(data) == n:
        return data
    if not data:
        raise EOFError
    buf = bytearray(n)
    view = memoryview(buf)
    view[: len(data)] = data
    got = len(data)
    while got < n:
        k = os.readv(fd, [view[got:]])
        if not k:
            raise EOFError
        got += k
    return buf


def read_frames(fd: int) -> tuple[Any, list[Any] | None]:
    """Read one message written by :func:`write_frames`: ``(first frame, other frames or None)``.
    Raises EOFError when the writer is gone."""
    count, first = _PIPE_HEAD.unpack(_read_exact(fd, _PIPE_HEAD.size))
    sizes = array("Q", bytes(_read_exact(fd, 8 * (count - 1)))).tolist() if count > 1 else []
    msg = _read_exact(fd, first)
    return msg, ([_read_exact(fd, n) for n in sizes] if sizes else None)


#: frames at least this large are read straight into their own buffer, not through FrameReader's
BIG_FRAME = 64 * 1024
_IOV_MAX = 512  # buffers per writev (Linux allows 1024)


class FrameReader:
    """Reads messages in the :func:`write_frames` format from a pipe, blocking or not.

    Each :meth:`read` makes one ``read`` system call (as much as is there, up to ``chunk``
    bytes) and returns the messages it completed, as ``(first frame, other frames or None)``;
    a partial message waits for the next call. ``chunk`` stays at most 128 KiB: glibc serves
    larger buffers with mmap, and a 1 MiB ``os.read`` measured ~11-16 µs against ~1 µs for
    64 KiB, whatever the amount read. A frame of ``BIG_FRAME`` bytes or more is read
    straight into a buffer of its own, so bulk data is copied once. Raises EOFError at end of
    file. Used on the executor <-> interchange link and between the interchange and the worker
    pools on its host (see ``interchange.py``).
    """

    __slots__ = ("big", "buf", "chunk", "cur", "fd", "pos")

    def __init__(self, fd: int, chunk: int = BIG_FRAME):
        self.fd = fd
        self.chunk = chunk
        self.buf = bytearray()
        self.pos = 0
        # the message being read: [frame count, first frame's size, other sizes or None, frames]
        self.cur: list[Any] | None = None
        self.big: list[Any] | None = None  # [buffer, bytes filled] of a large frame being read

    def read(self) -> list[tuple[Any, list[Any] | None]]:
        big = self.big
        if big is not None:
            target, filled = big
            n = os.readv(self.fd, [memoryview(target)[filled:]])
            if not n:
                raise EOFError
            filled += n
            if filled < len(target):
                big[1] = filled
                return []
            self.big = None
            assert self.cur is not None
            self.cur[3].append(target)
            return self._parse()
        data = os.read(self.fd, self.chunk)
        if not data:
            raise EOFError
        if self.pos >= len(self.buf):
            self.buf = bytearray(data)
            self.pos = 0
        else:
            self.buf += data
        return self._parse()

    def _parse(self) -> list[tuple[Any, list[Any] | None]]:
        out = []
        buf, pos = self.buf, self.pos
        end = len(buf)
        cur = self.cur
        while True:
            if cur is None:
                if end - pos < _PIPE_HEAD.size:
                    break
                count, first = _PIPE_HEAD.unpack_from(buf, pos)
                pos += _PIPE_HEAD.size
                cur = [count, first, None if count > 1 else [], []]
            sizes = cur[2]
            if sizes is None:
                need = 8 * (cur[0] - 1)
                if end - pos < need:
                    break
                sizes = cur[2] = array("Q", bytes(memoryview(buf)[pos : pos + need])).tolist()
                pos += need
            frames = cur[3]
            while len(frames) < cur[0]:
                size = cur[1] if not frames else sizes[len(frames) - 1]
                have = end - pos
                if have >= size:
                    frames.append(bytes(memoryview(buf)[pos : pos + size]))
                    pos += size
                elif size >= BIG_FRAME:
                    target = bytearray(size)
                    target[:have] = buf[pos:end]
                    pos = end
                    self.big = [target, have]
                    break
                else:
                    break
            if len(frames) < cur[0]:
                break
            out.append((frames[0], frames[1:] or None))
            cur = None
        self.cur = cur
        if pos >= end:
            self.buf = bytearray()
            self.pos = 0
        elif pos > (1 << 16):
            del buf[:pos]
            self.pos = 0
        else:
            self.pos = pos
        return out


class FrameWriter:
    """Writes messages in the :func:`write_frames` format to a non-blocking pipe, never waiting.

    What the pipe cannot take now stays in ``pending`` (in order, without copying); the owner
    calls :meth:`flush` when the pipe is writable again (poll for POLLOUT while ``pending``).
    Neither side of a link made of two such pipes can then block the other, whatever each
    does while the other's messages flow (a callback submitting while results arrive).
    Not thread-safe: callers serialize :meth:`send` and :meth:`flush`.
    """

    __slots__ = ("fd", "pending")

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self.pending: deque[Any] = deque()

    def send(self, frames: list[Any]) -> None:
        """Queue one message and write what the pipe takes now. OSError (EPIPE) if the reader is gone."""
        idle = not self.pending
        self.add(frames)
        if idle:  # otherwise the owner is waiting for the pipe to take what is already pending
            self.flush()

    def add(self, frames: list[Any]) -> None:
        """Queue one message without writing: the next :meth:`flush` writes it with the others
        in one system call (and the reader wakes once for them all)."""
        views = [memoryview(f).cast("B") for f in frames]
        pending = self.pending
        pending.append(_PIPE_HEAD.pack(len(views), views[0].nbytes))
        if len(views) > 1:
            pending.append(array("Q", [v.nbytes for v in views[1:]]).tobytes())
        pending.extend(views)

    def flush(self) -> bool:
        """Write what the pipe takes now; True when nothing is left pending."""
        pending = self.pending
        fd = self.fd
        while pending:
            parts = list(pending) if len(pending) <= _IOV_MAX else [pending[i] for i in range(_IOV_MAX)]
            try:
                done = os.writev(fd, parts)
            except BlockingIOError:
                return False
            for part in parts:
                n = len(part) if type(part) is bytes else part.nbytes
                if done >= n:
                    done -= n
                    pending.popleft()
                else:
                    if done:
                        pending[0] = memoryview(part)[done:]
                    return False
        return True
