"""A worker pool whose CurveZMQ keys do not fit the interchange's fails at once with what is
wrong, instead of waiting out its accept deadline: a client key the interchange's authenticator
refuses, a server key that is not the interchange's, no keys against an encrypted interchange,
keys that cannot be read.

The "interchange" here is a bare CURVE ROUTER with the same authenticator the interchange uses;
the pool is the real process_worker_pool, with an accept deadline long enough (60 s) that only
the handshake check can end it within the test's bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import zmq
import zmq.auth

from parsl_executor_htex.curve import create_certificates, make_server, start_authenticator
from parsl_executor_htex.process_worker_pool import EXIT_BAD_KEYS, EXIT_NOT_ACCEPTED, Manager, make_parser

BOUND = 15  # seconds: the pool must have exited by then (its accept deadline is 60 s)


@pytest.fixture
def interchange(tmp_path):
    """An encrypted ROUTER on 127.0.0.1 accepting only the client key in its own key directory."""
    keys = create_certificates(tmp_path / "run-keys")
    ctx = zmq.Context()
    auth = start_authenticator(ctx, keys)
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    make_server(sock, keys)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    yield keys, port
    auth.stop()
    sock.close()
    ctx.term()


def run_pool(port: int, cert_dir: str) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "parsl_executor_htex.process_worker_pool",
        "-a",
        "127.0.0.1",
        "--port",
        str(port),
        "--cert_dir",
        cert_dir,
        "--max_workers_per_node",
        "1",
        "--address_probe_timeout",
        "60",
        "--hb_period",
        "1",
        "--hb_threshold",
        "120",
    ]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=BOUND + 30)
    assert time.monotonic() - started < BOUND, f"the pool took {time.monotonic() - started:.1f} s to give up"
    return done


def reason(done: subprocess.CompletedProcess[str]) -> str:
    lines = [x for x in done.stderr.splitlines() if x.startswith("process_worker_pool: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_client_key_the_interchange_does_not_know(interchange, tmp_path):
    keys, port = interchange
    # the run's server key, but a client key pair of another run
    other = create_certificates(tmp_path / "other")
    mixed = tmp_path / "mixed"
    mixed.mkdir(mode=0o700)
    for name, src in (("server.key", keys), ("client.key", other), ("client.key_secret", other)):
        (mixed / name).write_bytes(open(os.path.join(src, name), "rb").read())
    done = run_pool(port, str(mixed))
    assert done.returncode == EXIT_NOT_ACCEPTED, done.stderr
    text = reason(done)
    assert f"the interchange at 127.0.0.1:{port} refused this pool's CurveZMQ client key" in text
    assert str(mixed) in text


def test_keys_of_another_run(interchange, tmp_path):
    _, port = interchange
    other = create_certificates(tmp_path / "other")
    done = run_pool(port, other)
    assert done.returncode == EXIT_NOT_ACCEPTED, done.stderr
    text = reason(done)
    assert f"the ZeroMQ handshake with the interchange at 127.0.0.1:{port} failed" in text
    assert f"the server key in {other} is not the interchange's" in text


def test_no_keys_against_an_encrypted_interchange(interchange):
    _, port = interchange
    done = run_pool(port, "None")
    assert done.returncode == EXIT_NOT_ACCEPTED, done.stderr
    assert "this pool has no CurveZMQ keys (--cert_dir None) and the interchange is encrypted" in reason(done)


@pytest.mark.parametrize("damage", ["garbage", "missing", "short key"])
def test_keys_that_cannot_be_read(interchange, tmp_path, damage):
    keys, port = interchange
    broken = tmp_path / "broken"
    broken.mkdir(mode=0o700)
    for name in ("server.key", "client.key", "client.key_secret"):
        (broken / name).write_bytes(open(os.path.join(keys, name), "rb").read())
    secret = broken / "client.key_secret"
    if damage == "garbage":
        secret.write_bytes(os.urandom(200))
    elif damage == "missing":
        secret.unlink()
    else:  # a key of the wrong length: ZeroMQ refuses it
        text = secret.read_text()
        _, sec = zmq.auth.load_certificate(str(secret))
        assert sec is not None
        secret.write_text(text.replace(sec.decode(), sec.decode()[:20]))
    done = run_pool(port, str(broken))
    assert done.returncode == EXIT_BAD_KEYS, done.stderr
    text = reason(done)
    assert f"cannot use the CurveZMQ keys in {broken}" in text
    assert "Traceback" not in done.stderr


def test_refused_pool_does_not_block_on_its_first_message(interchange, tmp_path):
    """The refusal can come before the pool sends its registration: the DEALER then has no pipe
    left, and a blocking send would hang the pool for good, past every deadline."""
    keys, port = interchange
    other = create_certificates(tmp_path / "other")
    mixed = tmp_path / "mixed"
    mixed.mkdir(mode=0o700)
    for name, src in (("server.key", keys), ("client.key", other), ("client.key_secret", other)):
        (mixed / name).write_bytes(open(os.path.join(src, name), "rb").read())
    args = make_parser().parse_args(
        ["--port", str(port), "--cert_dir", str(mixed), "--hb_period", "1", "--address_probe_timeout", "60"]
    )
    args.mem_per_worker = args.drain_period = None
    args.max_workers_per_node = 1.0
    manager = Manager(args, "127.0.0.1")
    time.sleep(0.5)  # the handshake is refused now, before run() sends the registration
    runner = threading.Thread(target=manager.run, daemon=True)
    runner.start()
    runner.join(BOUND)
    if runner.is_alive():
        manager.stopping = True
        pytest.fail("the refused pool blocked sending its registration")
    assert manager.exit_code == EXIT_NOT_ACCEPTED
