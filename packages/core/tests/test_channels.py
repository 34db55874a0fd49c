"""LocalChannel works for real (and warns that channels are deprecated)."""

from __future__ import annotations

import os
import pickle
import subprocess
import time

import pytest

from parsl.channels import Channel, LocalChannel
from parsl.channels.errors import (
    AuthException,
    BadHostKeyException,
    BadPermsScriptPath,
    BadScriptPath,
    ChannelError,
    FileCopyException,
    FileExists,
    SSHException,
)
from parsl.errors import ParslError
from parsl.providers import LocalProvider


@pytest.fixture
def channel(tmp_path):
    with pytest.warns(DeprecationWarning, match="LocalChannel"):
        return LocalChannel(userhome=str(tmp_path), envs={"CHAN_VAR": "from-channel"})


def test_construction_warns_and_reprs(tmp_path):
    with pytest.warns(DeprecationWarning):
        ch = LocalChannel()
    assert isinstance(ch, Channel)
    assert ch.userhome == os.path.abspath(".")
    assert ch.envs == {} and ch.script_dir is None
    assert repr(ch).startswith("LocalChannel(userhome=")
    ch.script_dir = str(tmp_path)
    assert ch.script_dir == str(tmp_path)


def test_execute_wait(channel, tmp_path):
    rc, out, err = channel.execute_wait(
        "pwd; echo $CHAN_VAR $EXTRA; echo oops >&2; exit 2", 10, envs={"EXTRA": "x"}
    )
    assert rc == 2
    assert out.splitlines() == [str(tmp_path), "from-channel x"]
    assert err == "oops\n"


def test_execute_wait_timeout_kills(channel, tmp_path):
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        channel.execute_wait("sleep 30 & echo $! > bg.pid; wait", 0.5)
    assert time.monotonic() - start < 5
    pid = int((tmp_path / "bg.pid").read_text())
    time.sleep(0.1)
    state = None
    if os.path.exists(f"/proc/{pid}/stat"):
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    assert state in (None, "Z", "X")


def test_execute_no_wait(channel):
    pid, proc = channel.execute_no_wait("exit 5", 10)
    assert pid == proc.pid
    assert proc.wait(timeout=10) == 5
    assert os.getpgid(os.getpid()) != pid  # the command got its own process group


def test_files(channel, tmp_path):
    src_dir = tmp_path / "src"
    dst_dir = tmp_path / "dst" / "deep"
    channel.makedirs(str(src_dir))
    with pytest.raises(OSError):
        channel.makedirs(str(src_dir))
    channel.makedirs(str(src_dir), exist_ok=True)
    channel.makedirs(str(dst_dir), exist_ok=True)
    assert channel.isdir(str(dst_dir)) and not channel.isdir(str(tmp_path / "nope"))
    (src_dir / "a.sh").write_text("echo a")
    pushed = channel.push_file(str(src_dir / "a.sh"), str(dst_dir))
    assert pushed == str(dst_dir / "a.sh") and open(pushed).read() == "echo a"
    assert channel.push_file(pushed, str(dst_dir)) == pushed  # same directory: no copy needed
    pulled = channel.pull_file(pushed, str(src_dir.parent))
    assert open(pulled).read() == "echo a"
    with pytest.raises(FileCopyException):
        channel.push_file(str(tmp_path / "missing"), str(dst_dir))
    assert channel.abspath("x") == os.path.abspath("x")
    assert channel.close() is False


def test_errors():
    e = ValueError("low level")
    for cls in (
        BadHostKeyException,
        BadScriptPath,
        BadPermsScriptPath,
        AuthException,
        SSHException,
        FileCopyException,
    ):
        err = cls(e, "host1")
        assert isinstance(err, ChannelError) and isinstance(err, ParslError)
        assert err.hostname == "host1" and err.e is e and "host1" in str(err)
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is cls and str(clone) == str(err)
    exists = FileExists(e, "host2", filename="f.txt")
    assert "f.txt" in str(exists) and exists.filename == "f.txt"
    assert "reason" in str(ChannelError("reason", e, "h"))


def test_provider_accepts_channel():
    with pytest.warns(DeprecationWarning):
        provider = LocalProvider(channel=LocalChannel(), init_blocks=1, max_blocks=1)
    assert isinstance(provider.channel, LocalChannel)
    assert "channel=LocalChannel(" in repr(provider)
