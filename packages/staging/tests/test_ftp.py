"""FTP staging against a real pyftpdlib server on loopback, through real workflows."""

from __future__ import annotations

import os

import pytest

import parsl
from parsl.app.app import python_app
from parsl.data_provider.files import File
from parsl.dataflow.errors import DependencyError
from parsl.executors.threads import ThreadPoolExecutor
from parsl_staging.errors import FTPStagingError
from parsl_staging.ftp import FTPInTaskStaging, FTPSeparateTaskStaging


@python_app
def read(inputs=()):
    with open(inputs[0].filepath) as f:
        return f.read()


@python_app
def shout(text, outputs=()):
    with open(outputs[0].filepath, "w") as f:
        f.write(text.upper())
    return outputs[0].filepath


def _threads(staging=None, **kw):
    return ThreadPoolExecutor(label="threads", max_threads=4, storage_access=staging, **kw)


@pytest.mark.parametrize(
    "staging",
    [None, [FTPSeparateTaskStaging()], [FTPInTaskStaging()]],
    ids=["default_staging", "separate_task", "in_task"],
)
def test_anonymous_download_with_the_port_from_the_url(load, ftp_server, staging):
    assert ftp_server != 21
    load(executors=[_threads(staging)])
    url = f"ftp://127.0.0.1:{ftp_server}/pub/readme.txt"
    assert read(inputs=[File(url)]).result(timeout=30) == "hello over ftp\n"


def test_default_port_21(load, ftp_port21):
    load()
    assert read(inputs=[File("ftp://127.0.0.1/pub/readme.txt")]).result(timeout=30) == "hello over ftp\n"


def test_same_basename_different_directories(load, ftp_server):
    load(executors=[_threads([FTPInTaskStaging()])])
    a = read(inputs=[File(f"ftp://127.0.0.1:{ftp_server}/pub/readme.txt")])
    b = read(inputs=[File(f"ftp://127.0.0.1:{ftp_server}/other/readme.txt")])
    assert (a.result(timeout=30), b.result(timeout=30)) == ("hello over ftp\n", "the other readme\n")


@pytest.mark.parametrize("staging", [None, [FTPInTaskStaging()]], ids=["separate_task", "in_task"])
def test_missing_file_fails_naming_the_url(load, ftp_server, staging):
    load(executors=[_threads(staging)])
    url = f"ftp://127.0.0.1:{ftp_server}/pub/nope.txt"
    fut = read(inputs=[File(url)])
    with pytest.raises((FTPStagingError, DependencyError)) as info:
        fut.result(timeout=30)
    err = info.value if staging else info.value.__cause__
    assert isinstance(err, FTPStagingError)
    assert url in str(err) and "550" in str(err)


@pytest.mark.parametrize("staging", [None, [FTPInTaskStaging()]], ids=["separate_task", "in_task"])
def test_upload_as_the_writable_user(load, ftp_server, ftp_root, staging):
    load(executors=[_threads(staging)])
    name = f"out-{'sep' if staging is None else 'in'}.txt"
    url = f"ftp://writer:s3cret@127.0.0.1:{ftp_server}/upload/{name}"
    fut = shout("shout this", outputs=[File(url)])
    done = fut.outputs[0].result(timeout=30)
    assert done.url == url
    assert (ftp_root / "upload" / name).read_text() == "SHOUT THIS"
    # and read back through a second task
    assert read(inputs=[fut.outputs[0]]).result(timeout=30) == "SHOUT THIS"


def test_anonymous_upload_is_refused_and_the_password_is_not_shown(load, ftp_server):
    load(executors=[_threads([FTPInTaskStaging()])])
    fut = shout("x", outputs=[File(f"ftp://127.0.0.1:{ftp_server}/upload/anon.txt")])
    with pytest.raises(FTPStagingError, match="upload") as info:
        fut.result(timeout=30)
    assert f"ftp://127.0.0.1:{ftp_server}/upload/anon.txt" in str(info.value)

    bad = shout("x", outputs=[File(f"ftp://writer:wrongpass@127.0.0.1:{ftp_server}/upload/w.txt")])
    with pytest.raises(FTPStagingError) as info:
        bad.result(timeout=30)
    assert "wrongpass" not in str(info.value) and "writer:***@" in str(info.value)


def test_connection_refused(load):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    load(executors=[_threads([FTPInTaskStaging(timeout=5)])])
    with pytest.raises(FTPStagingError, match="Connection refused"):
        read(inputs=[File(f"ftp://127.0.0.1:{port}/pub/readme.txt")]).result(timeout=30)


def test_credentials_from_netrc(load, ftp_server, ftp_root, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login writer password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    load(executors=[_threads([FTPInTaskStaging()])])
    shout("via netrc", outputs=[File(f"ftp://127.0.0.1:{ftp_server}/upload/netrc.txt")]).result(timeout=30)
    assert (ftp_root / "upload" / "netrc.txt").read_text() == "VIA NETRC"


def test_tutorial_ftp_snippet_runs_unchanged(load, ftp_server, tmp_path):
    """The 0.9 docs' FTP example, with only the FTP URL pointing at the local server."""
    load()

    @python_app
    def convert(inputs=[], outputs=[]):  # noqa: B006 (the docs' example, unchanged)
        with open(inputs[0].filepath) as inp:
            content = inp.read()
            with open(outputs[0].filepath, "w") as out:
                out.write(content.upper())

    # create an remote Parsl file
    inp = File(f"ftp://127.0.0.1:{ftp_server}/pub/ARIN-STATS-FORMAT-CHANGE.txt")
    # create a local Parsl file
    out = File(f"file://{tmp_path}/ARIN-STATS-FORMAT-CHANGE.txt")
    # call the convert app with the Parsl file
    f = convert(inputs=[inp], outputs=[out])
    f.result()
    assert (
        open(os.path.join(tmp_path, "ARIN-STATS-FORMAT-CHANGE.txt")).read()
        == "ARIN STATS FORMAT\nCHANGED LINES\n"
    )


@pytest.mark.slow
def test_htex_in_task_download_and_upload(htex_config, ftp_server, ftp_root, tmp_path):
    cfg = htex_config(storage_access=[FTPInTaskStaging()], working_dir=str(tmp_path / "wd"))
    with parsl.load(cfg):
        assert (
            read(inputs=[File(f"ftp://127.0.0.1:{ftp_server}/pub/readme.txt")]).result(timeout=60)
            == "hello over ftp\n"
        )
        fut = shout(
            "from htex", outputs=[File(f"ftp://writer:s3cret@127.0.0.1:{ftp_server}/upload/htex.txt")]
        )
        fut.outputs[0].result(timeout=60)
        assert (ftp_root / "upload" / "htex.txt").read_text() == "FROM HTEX"
        with pytest.raises(FTPStagingError, match="550"):
            read(inputs=[File(f"ftp://127.0.0.1:{ftp_server}/pub/absent.txt")]).result(timeout=60)


@pytest.mark.parametrize("staging", [None, [FTPInTaskStaging()]], ids=["separate_task", "in_task"])
def test_bash_app_stdout_uploaded_to_ftp(load, ftp_server, ftp_root, staging):
    from parsl.app.app import bash_app

    load(executors=[_threads(staging)])

    @bash_app
    def hello(stdout=None):
        return "echo hello from bash"

    name = f"stdout-{'sep' if staging is None else 'in'}.txt"
    fut = hello(stdout=File(f"ftp://writer:s3cret@127.0.0.1:{ftp_server}/upload/{name}"))
    assert fut.result(timeout=30) == 0
    fut.stdout.result(timeout=30)
    assert (ftp_root / "upload" / name).read_text() == "hello from bash\n"
