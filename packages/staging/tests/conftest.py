"""Fixtures for the staging tests: real servers on loopback and real workflows.

- ``http_server`` / ``https_server``: ``http_test_server.py`` in a subprocess (HTTPS with a
  self-signed certificate made here, which tests trust through ``SSL_CERT_FILE`` or
  ``verify=``); files go in ``http_root``.
- ``ftp_server``: pyftpdlib in a subprocess on a free port (``ftp_port21`` on port 21),
  anonymous read, user ``writer``/``s3cret`` read-write; files in ``ftp_root``.
- ``sshd``: the private sshd of ``.ci/infra/sshd-up.sh`` (127.0.0.1:2222, Host ``testhost``).
- ``load``: ``parsl.load`` a Config whose run directory is under the test's tmp_path; every
  DataFlowKernel is cleaned up afterwards. ``htex_config`` builds a small HTEX Config.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
SSHD_DIR = os.environ.get("SSHD_DIR", "/tmp/parsl-sshd")
SSH_CONFIG = os.path.join(SSHD_DIR, "ssh_config")


def _cleanup_current() -> None:
    dflow = sys.modules.get("parsl.dataflow.dflow")
    if dflow is None:
        return
    current = dflow.DataFlowKernelLoader._dfk
    if current is not None:
        if not current.cleanup_called:
            current.cleanup()
        dflow.DataFlowKernelLoader.clear()


@pytest.fixture(autouse=True)
def _no_leaked_dfk():
    _cleanup_current()
    yield
    _cleanup_current()


class Server:
    """A test server subprocess; stopped by its own pid."""

    def __init__(self, args: list[str], what: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(20)
        if not line or not line[0].startswith("PORT "):
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"{what} did not start: {err.strip()[-2000:]}")
        self.port = int(line[0].split()[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def http_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("http-root")
    (root / "hello.txt").write_text("hello over http\n")
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "a" / "data.txt").write_text("from a\n")
    (root / "b" / "data.txt").write_text("from b\n")
    (root / "numbers.txt").write_text("".join(f"{n}\n" for n in (5, 3, 9, 1, 7)))
    return root


@pytest.fixture(scope="session")
def http_server(http_root) -> str:
    server = Server([str(HERE / "http_test_server.py"), str(http_root)], "the HTTP test server")
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parsl-staging test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="session")
def https_server(http_root, tls_cert) -> str:
    cert, key = tls_cert
    server = Server(
        [str(HERE / "http_test_server.py"), str(http_root), "--cert", cert, "--key", key],
        "the HTTPS test server",
    )
    yield f"https://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def ftp_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ftp-root")
    (root / "pub").mkdir()
    (root / "pub" / "readme.txt").write_text("hello over ftp\n")
    (root / "pub" / "ARIN-STATS-FORMAT-CHANGE.txt").write_text("arin stats format\nchanged lines\n")
    (root / "other").mkdir()
    (root / "other" / "readme.txt").write_text("the other readme\n")
    (root / "upload").mkdir()
    return root


@pytest.fixture(scope="session")
def ftp_server(ftp_root) -> int:
    pytest.importorskip("pyftpdlib")
    server = Server([str(HERE / "ftp_test_server.py"), str(ftp_root)], "the FTP test server")
    yield server.port
    server.stop()


@pytest.fixture(scope="session")
def ftp_port21(ftp_root) -> int:
    """The FTP test server on the default port 21 (we run as root)."""
    pytest.importorskip("pyftpdlib")
    try:
        server = Server(
            [str(HERE / "ftp_test_server.py"), str(ftp_root), "--port", "21"],
            "the FTP test server on port 21",
        )
    except RuntimeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot listen on port 21 here ({e}); CI runs this")
    yield 21
    server.stop()


def _ssh_ok() -> bool:
    if not os.path.exists(SSH_CONFIG):
        return False
    try:
        out = subprocess.run(
            ["ssh", "-F", SSH_CONFIG, "-o", "ConnectTimeout=3", "testhost", "echo ok"],
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "ok"


@pytest.fixture(scope="session")
def sshd() -> str:
    """``ssh -F <this> testhost`` reaches a real sshd on 127.0.0.1:2222 (started if needed)."""
    if not _ssh_ok():
        if os.environ.get("CI"):
            pytest.fail("sshd is not reachable: .ci/setup.d/10-sshd.sh should have started it")
        try:
            subprocess.run(
                ["bash", str(REPO / ".ci" / "infra" / "sshd-up.sh")],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as e:
            pytest.skip(f"no sshd for the rsync tests and .ci/infra/sshd-up.sh could not start one: {e}")
        if not _ssh_ok():
            pytest.skip("no sshd for the rsync tests (bash .ci/infra/sshd-up.sh did not make one answer)")
    return SSH_CONFIG


@pytest.fixture
def run_dir(tmp_path) -> str:
    return str(tmp_path / "runinfo")


@pytest.fixture
def load(tmp_path, monkeypatch, run_dir):
    """``load(config=None, **config_kwargs)``: parsl.load a Config; always cleaned up."""
    from parsl.testing.loader import Loader

    monkeypatch.chdir(tmp_path)
    with Loader(run_dir) as loader:
        yield loader


@pytest.fixture
def htex_config(run_dir):
    """``htex_config(**executor_kwargs)``: a one-block local HTEX Config with two workers."""
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    def make(**kw):
        opts = dict(
            label="htex",
            max_workers_per_node=2,
            heartbeat_period=1,
            heartbeat_threshold=5,
            provider=LocalProvider(init_blocks=1, max_blocks=1),
        )
        opts.update(kw)
        return Config(executors=[HighThroughputExecutor(**opts)], run_dir=run_dir, strategy="none")

    return make
