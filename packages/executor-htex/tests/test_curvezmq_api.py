"""``parsl.curvezmq``, the module Parsl's own tests and tools import: contexts whose sockets
are CurveZMQ-encrypted, over real ZeroMQ sockets on localhost."""

from __future__ import annotations

import os
import subprocess
import sys
from unittest import mock

import pytest
import zmq

from parsl import curvezmq


@pytest.fixture
def cert_dir(tmp_path):
    return curvezmq.create_certificates(tmp_path)


def _pair(server_ctx, client_ctx):
    server = server_ctx.socket(zmq.PULL)
    server.setsockopt(zmq.RCVTIMEO, 5000)
    server.setsockopt(zmq.LINGER, 0)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client = client_ctx.socket(zmq.PUSH)
    client.setsockopt(zmq.LINGER, 0)
    client.connect(f"tcp://127.0.0.1:{port}")
    return server, client


def test_parsl_curvezmq_is_the_module_the_contexts_live_in():
    import parsl
    import parsl_executor_htex.curvezmq as impl

    assert curvezmq is impl and parsl.curvezmq is impl and sys.modules["parsl.curvezmq"] is impl


def test_create_certificates_makes_a_private_dir_of_fresh_keys(tmp_path):
    cert_dir = curvezmq.create_certificates(tmp_path)
    assert cert_dir == str(tmp_path / "certificates")
    assert os.stat(cert_dir).st_mode & 0o777 == 0o700
    assert sorted(os.listdir(cert_dir)) == [
        "client.key",
        "client.key_secret",
        "server.key",
        "server.key_secret",
    ]
    first = curvezmq._load_certificate(cert_dir, "server")
    curvezmq.create_certificates(tmp_path)
    assert curvezmq._load_certificate(cert_dir, "server") != first  # replaced, as Parsl does


@pytest.mark.parametrize("encrypted", [True, False])
def test_encrypted_and_plain_contexts_talk(tmp_path, encrypted):
    cert_dir = curvezmq.create_certificates(tmp_path) if encrypted else None
    server_ctx, client_ctx = curvezmq.ServerContext(cert_dir), curvezmq.ClientContext(cert_dir)
    try:
        assert server_ctx.encrypted is encrypted and client_ctx.encrypted is encrypted
        assert (server_ctx.auth_thread is not None) is encrypted
        server, client = _pair(server_ctx, client_ctx)
        assert server.getsockopt(zmq.CURVE_SERVER) == int(encrypted)
        client.send(b"howdy")
        assert server.recv() == b"howdy"
    finally:
        server_ctx.destroy()
        client_ctx.destroy()
    assert server_ctx.closed and client_ctx.closed and server_ctx.auth_thread is None


def test_a_client_with_other_keys_is_not_heard(tmp_path, cert_dir):
    stranger_dir = curvezmq.create_certificates(tmp_path / "stranger")
    import shutil

    shutil.copy(os.path.join(cert_dir, "server.key"), os.path.join(stranger_dir, "server.key"))
    server_ctx, client_ctx = curvezmq.ServerContext(cert_dir), curvezmq.ClientContext(stranger_dir)
    try:
        server, client = _pair(server_ctx, client_ctx)
        server.setsockopt(zmq.RCVTIMEO, 300)
        client.send(b"let me in")
        with pytest.raises(zmq.Again):
            server.recv()
    finally:
        server_ctx.destroy()
        client_ctx.destroy()


def test_a_readable_cert_dir_is_refused_at_socket(tmp_path, cert_dir):
    os.chmod(cert_dir, 0o755)
    ctx = curvezmq.ClientContext(cert_dir)
    try:
        with pytest.raises(OSError, match="must be private"):
            ctx.socket(zmq.REQ)
    finally:
        ctx.destroy()


def test_patching_load_certificate_on_parsl_curvezmq_reaches_the_contexts(cert_dir):
    server_ctx, client_ctx = curvezmq.ServerContext(cert_dir), curvezmq.ClientContext(cert_dir)
    try:
        with mock.patch.object(curvezmq, "_load_certificate", return_value=(b"badkey", b"badkey")):
            with pytest.raises(ValueError, match="Invalid CurveZMQ key format") as e1:
                server_ctx.socket(zmq.REP)
            with pytest.raises(ValueError, match="Invalid CurveZMQ key format") as e2:
                client_ctx.socket(zmq.REQ)
        assert str(e1.value) == str(e2.value)
        server_ctx.socket(zmq.REP).close()  # the real keys again once unpatched
    finally:
        server_ctx.destroy()
        client_ctx.destroy()


def test_without_the_htex_package_the_import_names_the_extra():
    code = (
        "import sys; sys.modules['parsl_executor_htex'] = None\n"
        "try:\n    import parsl.curvezmq\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install 'parslcore[htex]'" in out.stdout, out.stderr
