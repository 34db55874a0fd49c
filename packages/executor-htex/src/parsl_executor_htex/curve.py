"""CurveZMQ keys and socket setup (``encrypted=True``, the default).

The executor writes a server and a client key pair into a private certificate directory;
the interchange is the CURVE server on every socket it binds and authenticates clients
(the executor and the worker pools) against the public keys in that directory.
"""

from __future__ import annotations

import os
from typing import Any

import zmq
import zmq.auth

__all__ = ["create_certificates", "load_certificate", "make_client", "make_server", "start_authenticator"]


def create_certificates(cert_dir: str | os.PathLike[str], overwrite: bool = False) -> str:
    """Create the key pairs in ``cert_dir`` (mode 0700) and return it.

    Existing key pairs are kept unless ``overwrite``.
    """
    if not zmq.has("curve"):
        raise RuntimeError(
            "this libzmq has no CURVE support: pass encrypted=False to the "
            "HighThroughputExecutor or install a pyzmq built with libsodium"
        )
    cert_dir = os.fspath(cert_dir)
    os.makedirs(cert_dir, mode=0o700, exist_ok=True)
    os.chmod(cert_dir, 0o700)
    for name in ("server", "client"):
        if overwrite or not os.path.exists(os.path.join(cert_dir, f"{name}.key_secret")):
            zmq.auth.create_certificates(cert_dir, name)
    return cert_dir


def load_certificate(cert_dir: str | os.PathLike[str], name: str) -> tuple[bytes, bytes]:
    """``(public key, secret key)`` of the pair ``name`` (``"server"``, ``"client"``) in ``cert_dir``.

    Raises OSError if ``cert_dir`` is readable by others (or missing, or the key file is not
    a certificate) and ValueError if the file holds no secret key.
    """
    if os.stat(cert_dir).st_mode & 0o777 != 0o700:
        raise OSError(
            f"The certificates directory must be private: {os.fspath(cert_dir)} is readable "
            f"by others; run chmod 700 on it"
        )
    path = os.path.join(cert_dir, f"{name}.key_secret")
    public, secret = zmq.auth.load_certificate(path)
    if secret is None:
        raise ValueError(f"No secret key found in {path}")
    return public, secret


def make_server(sock: zmq.Socket, cert_dir: str) -> None:
    """Turn ``sock`` (before bind) into a CURVE server."""
    public, secret = zmq.auth.load_certificate(os.path.join(cert_dir, "server.key_secret"))
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True


def make_client(sock: zmq.Socket, cert_dir: str) -> None:
    """Turn ``sock`` (before connect) into a CURVE client of the interchange."""
    public, secret = zmq.auth.load_certificate(os.path.join(cert_dir, "client.key_secret"))
    server_public, _ = zmq.auth.load_certificate(os.path.join(cert_dir, "server.key"))
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = server_public


def start_authenticator(ctx: zmq.Context, cert_dir: str) -> Any:
    """Accept only clients whose public key is in ``cert_dir``; returns the authenticator to stop."""
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=cert_dir)
    return auth
