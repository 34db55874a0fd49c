"""`python -m parsl doctor --reach HOST:PORT`, run on a worker pool's host: whether the
interchange's address and port accept a connection from there, and if not, why in words that
point at the fix. Real sockets on loopback here; across hosts and through a firewall in
tests/multihost."""

from __future__ import annotations

import socket
import subprocess
import sys

from parsl.__main__ import main, reach


def _doctor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "parsl", "doctor", *args], capture_output=True, text=True, timeout=60
    )


def _closed_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections to it are refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_listening_port_is_reachable_and_a_closed_one_is_refused_with_the_fix():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        ok, text = reach("127.0.0.1", port, 5)
        assert ok and text.startswith("reachable")
        closed = _closed_port()
        done = _doctor("--reach", f"127.0.0.1:{port}", "--reach", f"127.0.0.1:{closed}", "--timeout", "5")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"127.0.0.1:{port}: reachable")
    assert lines[1].startswith(f"127.0.0.1:{closed}: refused") and "nothing listens on port" in lines[1]
    assert "docs/multihost.md" in lines[2]


def test_every_target_reachable_exits_zero_and_a_comma_list_is_several_targets(capsys):
    with socket.socket() as a, socket.socket() as b:
        for s in (a, b):
            s.bind(("127.0.0.1", 0))
            s.listen(4)
        targets = ",".join(f"127.0.0.1:{s.getsockname()[1]}" for s in (a, b))
        assert main(["doctor", "--reach", targets, "--timeout", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(": reachable" in line for line in out)


def test_a_malformed_target_is_an_error_naming_the_form_expected():
    done = _doctor("--reach", "10.1.2.3")
    assert done.returncode == 2
    assert "give HOST:PORT" in done.stderr and "'10.1.2.3'" in done.stderr
    assert _doctor("--reach", "host:99999").returncode == 2


def test_a_name_that_does_not_resolve_says_so():
    ok, text = reach("no-such-host.invalid", 80, 5)
    assert not ok and "does not resolve" in text
