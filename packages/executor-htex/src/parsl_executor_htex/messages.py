"""Message tags and version info shared by the executor, interchange, managers and workers.

Every message is a single ZeroMQ frame (plus the peer identity on ROUTER sockets): a
one-byte tag followed by a pickled body. Single frames matter: a multipart send and receive
costs about ten times a single-frame one in pyzmq. Result batches from a worker pool reach
the executor byte for byte: the interchange reads the task ids and forwards the frame.
"""
from __future__ import annotations

import pickle
import platform
import struct
import sys
from typing import Any

__all__ = [
    "ACCEPT",
    "DRAIN",
    "ERROR",
    "FORGET",
    "HEARTBEAT",
    "READY",
    "REGISTER",
    "REJECT",
    "RESULTS",
    "STOP",
    "TASKS",
    "WORKER_RESULT",
    "decode",
    "encode",
    "pack",
    "unpack",
    "version_info",
]

# executor -> interchange: T (meta [(tid, fid, priority)], defs {fid: bytes}, [payload])
# interchange -> manager:  T (meta [(tid, fid)], defs, [payload])
# manager -> worker:       T (tid, fid, function bytes or None, payload)
TASKS = b"T"
FORGET = b"F"      # F [fid...]: the function is gone; drop its cached bytes
STOP = b"S"        # S: shut down now (or, from a manager: I am leaving)
# manager -> interchange -> executor: R ([tid...], [payload...]); worker -> manager: R + struct
RESULTS = b"R"
ERROR = b"E"       # interchange -> executor: E exception: the executor is unusable
REGISTER = b"G"    # manager -> interchange: G info
HEARTBEAT = b"H"   # both ways between manager and interchange
DRAIN = b"D"       # manager -> interchange: take no more tasks; interchange -> manager: none will come
ACCEPT = b"A"      # interchange -> manager: registration accepted
REJECT = b"X"      # interchange -> manager: X reason (version mismatch)
READY = b"Y"       # worker -> manager: Y + rank


def version_info() -> dict[str, str]:
    """What must match between the workflow's side and the worker pools."""
    from parsl_executor_htex import __version__
    return {"python": "{}.{}".format(*sys.version_info[:2]), "parsl-executor-htex": __version__,
            "platform": platform.system()}


def pack(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


unpack = pickle.loads


def encode(tag: bytes, body: Any) -> bytes:
    """One frame: ``tag`` then the pickled ``body``."""
    return tag + pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)


def decode(msg: bytes) -> Any:
    """The body of a frame made by :func:`encode`."""
    return pickle.loads(memoryview(msg)[1:])


#: worker -> manager result header after the tag: rank, task id; the result bytes follow
WORKER_RESULT = struct.Struct("<iq")
