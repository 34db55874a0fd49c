"""Parsl's ``parsl.curvezmq`` API: ZeroMQ contexts whose sockets are CurveZMQ-encrypted.

``parsl.curvezmq`` *is* this module (core's ``parsl/curvezmq.py`` puts it in its place in
``sys.modules``), so patching ``parsl.curvezmq._load_certificate`` in a test changes what the
contexts here load. Programs and tests written for Parsl use it directly::

    cert_dir = create_certificates(run_dir)          # run_dir/certificates, mode 0700
    server = ServerContext(cert_dir)                 # authenticates clients in a thread
    client = ClientContext(cert_dir)                 # cert_dir=None: no encryption
    sock = server.socket(zmq.REP)                    # keys and options already applied

HighThroughputExecutor itself sets its sockets up with :mod:`parsl_executor_htex.curve`,
which reads the same key files.
"""

from __future__ import annotations

import os
from abc import ABCMeta, abstractmethod
from typing import Any

import zmq

from parsl_executor_htex import curve

__all__ = ["BaseContext", "ClientContext", "ServerContext", "create_certificates"]

CertDir = str | os.PathLike[str] | None


def create_certificates(base_dir: str | os.PathLike[str]) -> str:
    """Write fresh server and client key pairs into ``base_dir/certificates`` (mode 0700).

    Existing keys there are replaced. Returns the certificates directory.
    """
    return curve.create_certificates(os.path.join(base_dir, "certificates"), overwrite=True)


def _load_certificate(cert_dir: str | os.PathLike[str], name: str) -> tuple[bytes, bytes]:
    """``(public, secret)`` key of ``name``; OSError unless ``cert_dir`` is private."""
    return curve.load_certificate(cert_dir, name)


def _set_keys(sock: zmq.Socket, **keys: bytes) -> None:
    try:
        for option, key in keys.items():
            sock.setsockopt(getattr(zmq, option), key)
    except zmq.ZMQError as e:
        sock.close(linger=0)
        # the same text for server and client sockets, whichever key libzmq refused
        raise ValueError(
            f"Invalid CurveZMQ key format ({e}): recreate the keys with create_certificates()"
        ) from e


class BaseContext(metaclass=ABCMeta):
    """A ``zmq.Context`` whose :meth:`socket` applies the keys in ``cert_dir`` (None: plain)."""

    def __init__(self, cert_dir: CertDir) -> None:
        self.cert_dir = cert_dir
        self._ctx = zmq.Context()

    @property
    def encrypted(self) -> bool:
        """Whether sockets are encrypted (``cert_dir`` is set)."""
        return self.cert_dir is not None

    @property
    def closed(self) -> bool:
        return self._ctx.closed

    @abstractmethod
    def socket(self, socket_type: int, *args: Any, **kwargs: Any) -> zmq.Socket:
        """A new socket of ``socket_type`` (``zmq.REQ``, ``zmq.DEALER``, ...), keys applied.

        ``args`` and ``kwargs`` go to ``zmq.Context.socket``.
        """

    def term(self) -> None:
        """Terminate the context (waits for its sockets to be closed)."""
        self._ctx.term()

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket of the context, then terminate it (not thread-safe)."""
        self._ctx.destroy(linger)


class ServerContext(BaseContext):
    """Sockets that are CurveZMQ servers (before ``bind``).

    With encryption on, a thread (``auth_thread``) accepts only clients whose public key is
    in ``cert_dir``.
    """

    def __init__(self, cert_dir: CertDir) -> None:
        super().__init__(cert_dir)
        self.auth_thread: Any = None
        if self.encrypted:
            assert self.cert_dir is not None
            self.auth_thread = curve.start_authenticator(self._ctx, os.fspath(self.cert_dir))

    def __del__(self) -> None:
        self._stop_auth()

    def _stop_auth(self) -> None:
        auth = getattr(self, "auth_thread", None)
        if auth is not None:
            auth.stop()
            self.auth_thread = None

    def socket(self, socket_type: int, *args: Any, **kwargs: Any) -> zmq.Socket:
        sock = self._ctx.socket(socket_type, *args, **kwargs)
        if self.encrypted:
            assert self.cert_dir is not None
            try:
                _, secret = _load_certificate(self.cert_dir, name="server")
            except BaseException:
                sock.close(linger=0)
                raise
            # a server needs only its secret key; clients hold its public key
            _set_keys(sock, CURVE_SECRETKEY=secret)
            sock.setsockopt(zmq.CURVE_SERVER, True)
        sock.setsockopt(zmq.IPV6, True)
        return sock

    def term(self) -> None:
        self._stop_auth()
        super().term()

    def destroy(self, linger: int | None = None) -> None:
        self._stop_auth()
        super().destroy(linger)


class ClientContext(BaseContext):
    """Sockets that are CurveZMQ clients (before ``connect``) of a :class:`ServerContext`'s sockets."""

    def socket(self, socket_type: int, *args: Any, **kwargs: Any) -> zmq.Socket:
        sock = self._ctx.socket(socket_type, *args, **kwargs)
        if self.encrypted:
            assert self.cert_dir is not None
            try:
                public, secret = _load_certificate(self.cert_dir, name="client")
                server_public, _ = _load_certificate(self.cert_dir, name="server")
            except BaseException:
                sock.close(linger=0)
                raise
            _set_keys(sock, CURVE_PUBLICKEY=public, CURVE_SECRETKEY=secret, CURVE_SERVERKEY=server_public)
        sock.setsockopt(zmq.IPV6, True)
        return sock
