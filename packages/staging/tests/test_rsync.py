"""rsync staging over a real sshd (127.0.0.1:2222, Host ``testhost``), through real workflows."""

from __future__ import annotations

import os

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor
from parsl_staging.errors import RSyncStagingError
from parsl_staging.http import HTTPInTaskStaging
from parsl_staging.rsync import RSyncStaging

pytestmark = pytest.mark.infra


@python_app
def upper(inputs=(), outputs=()):
    with open(inputs[0].filepath) as f, open(outputs[0].filepath, "w") as out:
        out.write(f.read().upper())
    return inputs[0].filepath, outputs[0].filepath


@python_app
def read(inputs=()):
    with open(inputs[0].filepath) as f:
        return f.read()


def _rsync(sshd):
    return RSyncStaging("testhost", ssh_command=f"ssh -F {sshd}")


def test_stage_in_and_out_with_threads(load, sshd, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("rsync me\n")
    dst = tmp_path / "results" / "out.txt"
    dst.parent.mkdir()
    load(
        executors=[
            ThreadPoolExecutor(
                label="threads", storage_access=[_rsync(sshd)], working_dir=str(tmp_path / "worker")
            )
        ]
    )
    fut = upper(inputs=[File(str(src))], outputs=[File(str(dst))])
    in_path, out_path = fut.result(timeout=60)
    # the app worked on copies in the worker's directory, not on the originals
    assert in_path.startswith(str(tmp_path / "worker")) and out_path.startswith(str(tmp_path / "worker"))
    assert open(in_path).read() == "rsync me\n"
    fut.outputs[0].result(timeout=60)
    assert dst.read_text() == "RSYNC ME\n"
    # the output DataFuture flows on: staged in again for the next task
    assert read(inputs=[fut.outputs[0]]).result(timeout=60) == "RSYNC ME\n"


def test_relative_paths_are_relative_to_the_workflow_directory(load, sshd, tmp_path):
    (tmp_path / "rel.txt").write_text("relative\n")
    load(executors=[ThreadPoolExecutor(label="threads", storage_access=[_rsync(sshd)])])
    assert read(inputs=[File("rel.txt")]).result(timeout=60) == "relative\n"


def test_ssh_options_through_rsync_rsh(load, sshd, tmp_path, monkeypatch):
    (tmp_path / "env.txt").write_text("via RSYNC_RSH\n")
    monkeypatch.setenv("RSYNC_RSH", f"ssh -F {sshd}")
    load(executors=[ThreadPoolExecutor(label="threads", storage_access=[RSyncStaging("testhost")])])
    assert read(inputs=[File(str(tmp_path / "env.txt"))]).result(timeout=60) == "via RSYNC_RSH\n"


def test_missing_remote_file_fails_the_task_naming_it(load, sshd, tmp_path):
    load(executors=[ThreadPoolExecutor(label="threads", storage_access=[_rsync(sshd)])])
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(RSyncStagingError) as info:
        read(inputs=[File(missing)]).result(timeout=60)
    assert f"testhost:{missing}" in str(info.value) and "exited with" in str(info.value)


def test_output_the_app_did_not_write(load, sshd, tmp_path):
    load(executors=[ThreadPoolExecutor(label="threads", storage_access=[_rsync(sshd)])])

    @python_app
    def lazy(outputs=()):
        return 1

    with pytest.raises(RSyncStagingError, match="did not write"):
        lazy(outputs=[File(str(tmp_path / "never.txt"))]).result(timeout=60)


@pytest.mark.slow
def test_htex_with_the_docs_storage_access_list(htex_config, sshd, http_server, tmp_path):
    """The docs' rsync configuration: HTTP and FTP in-task, rsync for local files."""
    from parsl_staging.ftp import FTPInTaskStaging

    src = tmp_path / "words.txt"
    src.write_text("b\na\nc\n")
    out = tmp_path / "sorted.txt"
    cfg = htex_config(
        storage_access=[HTTPInTaskStaging(), FTPInTaskStaging(), _rsync(sshd)],
        working_dir=str(tmp_path / "htex-work"),
    )

    @bash_app
    def sort_words(inputs=(), outputs=()):
        return f"sort {inputs[0]} > {outputs[0]}"

    with parsl.load(cfg):
        fut = sort_words(inputs=[File(str(src))], outputs=[File(str(out))])
        assert fut.result(timeout=60) == 0
        fut.outputs[0].result(timeout=60)
        assert out.read_text() == "a\nb\nc\n"
        assert read(inputs=[File(f"{http_server}/files/hello.txt")]).result(timeout=60) == "hello over http\n"
        with pytest.raises(RSyncStagingError):
            read(inputs=[File(str(tmp_path / "absent.txt"))]).result(timeout=60)
    assert os.path.isdir(tmp_path / "htex-work" / "staging")
