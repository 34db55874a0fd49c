"""HTTP and HTTPS staging against real servers on loopback, through real workflows."""

from __future__ import annotations

import os

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.data_provider.files import File
from parsl.dataflow.errors import DependencyError
from parsl.executors.threads import ThreadPoolExecutor
from parsl_staging.errors import HTTPStagingError
from parsl_staging.http import HTTPInTaskStaging, HTTPSeparateTaskStaging


@python_app
def read(inputs=()):
    with open(inputs[0].filepath) as f:
        return f.read()


@python_app
def read_with_path(inputs=()):
    with open(inputs[0].filepath) as f:
        return inputs[0].filepath, f.read()


@python_app
def ok():
    return "ran"


def _threads(staging=None, **kw):
    return ThreadPoolExecutor(label="threads", max_threads=4, storage_access=staging, **kw)


@pytest.mark.parametrize(
    "staging",
    [None, [HTTPSeparateTaskStaging()], [HTTPInTaskStaging()]],
    ids=["default_staging", "separate_task", "in_task"],
)
def test_http_file_is_staged_in_before_the_app(load, http_server, staging):
    load(executors=[_threads(staging)])
    path, text = read_with_path(inputs=[File(f"{http_server}/files/hello.txt")]).result(timeout=30)
    assert text == "hello over http\n"
    assert os.path.basename(path) == "hello.txt"
    assert os.path.isabs(path) and "/staging/" in path


def test_staged_files_land_in_the_executors_working_dir(load, http_server, tmp_path):
    wd = tmp_path / "work"
    load(executors=[_threads([HTTPInTaskStaging()], working_dir=str(wd))])
    path, text = read_with_path(inputs=[File(f"{http_server}/files/hello.txt")]).result(timeout=30)
    assert path.startswith(str(wd) + os.sep)
    assert open(path).read() == text == "hello over http\n"


@pytest.mark.parametrize("staging", [None, [HTTPInTaskStaging()]], ids=["separate_task", "in_task"])
def test_same_basename_from_different_urls_never_collide(load, http_server, staging):
    load(executors=[_threads(staging)])
    futs = []
    for _ in range(5):
        futs.append(read_with_path(inputs=[File(f"{http_server}/files/a/data.txt")]))
        futs.append(read_with_path(inputs=[File(f"{http_server}/files/b/data.txt")]))
    results = [f.result(timeout=30) for f in futs]
    paths = [p for p, _ in results]
    assert len(set(paths)) == len(paths)
    assert [t for _, t in results] == ["from a\n", "from b\n"] * 5
    # each staged file still holds its own content afterwards
    for p, t in results:
        assert open(p).read() == t


def test_redirects_are_followed(load, http_server):
    load()
    fut = read(inputs=[File(f"{http_server}/redirect/3/hello.txt")])
    assert fut.result(timeout=30) == "hello over http\n"


@pytest.mark.parametrize("code", [404, 403, 500, 503])
def test_error_status_fails_the_stage_in_naming_url_and_status(load, http_server, code):
    load()
    url = f"{http_server}/status/{code}/x.txt"
    fut = read(inputs=[File(url)])
    with pytest.raises(DependencyError) as info:
        fut.result(timeout=30)
    cause = info.value.__cause__
    assert isinstance(cause, HTTPStagingError)
    assert cause.status == code
    assert url in str(cause) and str(code) in str(cause)


def test_in_task_error_fails_the_task_and_its_dependents(load, http_server):
    load(executors=[_threads([HTTPInTaskStaging()])])
    url = f"{http_server}/files/missing.txt"
    first = read(inputs=[File(url)])

    @python_app
    def after(x):
        return x

    second = after(first)
    with pytest.raises(HTTPStagingError, match="404") as info:
        first.result(timeout=30)
    assert url in str(info.value)
    with pytest.raises(DependencyError):
        second.result(timeout=30)
    # the failed download left no partial file behind, and other tasks are unaffected
    assert ok().result(timeout=30) == "ran"


def test_redirect_to_a_missing_file_names_both_urls(load, http_server):
    load(executors=[_threads([HTTPInTaskStaging()])])
    url = f"{http_server}/redirect/1/nothing.txt"
    with pytest.raises(HTTPStagingError) as info:
        read(inputs=[File(url)]).result(timeout=30)
    assert info.value.status == 404
    assert url in str(info.value) and "/files/nothing.txt" in str(info.value)


def test_truncated_body_is_an_error_and_leaves_no_file(load, http_server, tmp_path):
    load(executors=[_threads([HTTPInTaskStaging()], working_dir=str(tmp_path / "wd"))])
    with pytest.raises(HTTPStagingError, match="after 10 of 1000 bytes"):
        read(inputs=[File(f"{http_server}/truncated/t.bin")]).result(timeout=30)
    leftovers = [f for _, _, fs in os.walk(tmp_path / "wd") for f in fs]
    assert leftovers == []


def test_unreachable_server_names_the_url(load):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    load(executors=[_threads([HTTPInTaskStaging()])])
    url = f"http://127.0.0.1:{port}/x.txt"
    with pytest.raises(HTTPStagingError, match="cannot connect") as info:
        read(inputs=[File(url)]).result(timeout=30)
    assert url in str(info.value)


def test_read_timeout(load, http_server):
    load(executors=[_threads([HTTPInTaskStaging(timeout=0.5)])])
    with pytest.raises(HTTPStagingError, match="after 0 bytes"):
        read(inputs=[File(f"{http_server}/slow/s.txt")]).result(timeout=30)


def test_https_with_a_self_signed_certificate_trusted_through_ssl_cert_file(
    load, https_server, tls_cert, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", tls_cert[0])
    load()
    assert read(inputs=[File(f"{https_server}/files/hello.txt")]).result(timeout=30) == "hello over http\n"


def test_https_with_verify_naming_the_ca_file(load, https_server, tls_cert):
    load(executors=[_threads([HTTPInTaskStaging(verify=tls_cert[0])])])
    fut = read(inputs=[File(f"{https_server}/redirect/2/hello.txt")])
    assert fut.result(timeout=30) == "hello over http\n"


def test_https_untrusted_certificate_is_refused(load, https_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    load(executors=[_threads([HTTPInTaskStaging()])])
    url = f"{https_server}/files/hello.txt"
    with pytest.raises(HTTPStagingError, match="CERTIFICATE_VERIFY_FAILED") as info:
        read(inputs=[File(url)]).result(timeout=30)
    assert url in str(info.value)


def test_https_verify_false_skips_the_check(load, https_server):
    load(executors=[_threads([HTTPInTaskStaging(verify=False)])])
    assert read(inputs=[File(f"{https_server}/files/hello.txt")]).result(timeout=30) == "hello over http\n"


def test_bash_app_and_dataflow_with_staged_input(load, http_server, tmp_path):
    load()

    @bash_app
    def sort_numbers(inputs=(), outputs=()):
        return f"sort -n {inputs[0]} > {outputs[0]}"

    @python_app
    def total(inputs=()):
        with open(inputs[0].filepath) as f:
            return sum(int(x) for x in f)

    out = File(str(tmp_path / "sorted.txt"))
    sorted_fut = sort_numbers(inputs=[File(f"{http_server}/files/numbers.txt")], outputs=[out])
    assert total(inputs=[sorted_fut.outputs[0]]).result(timeout=30) == 25
    assert open(out.filepath).read().split() == ["1", "3", "5", "7", "9"]


def test_positional_and_keyword_file_arguments_are_staged(load, http_server):
    load()

    @python_app
    def both(a, b=None):
        return open(a.filepath).read() + open(b.filepath).read()

    fut = both(File(f"{http_server}/files/a/data.txt"), b=File(f"{http_server}/files/b/data.txt"))
    assert fut.result(timeout=30) == "from a\nfrom b\n"


def test_http_output_has_no_provider(load, http_server):
    from parsl.data_provider.data_manager import NoStagingProviderError

    load()

    @python_app
    def write(outputs=()):
        pass

    with pytest.raises(NoStagingProviderError, match="stage out"):
        write(outputs=[File(f"{http_server}/files/new.txt")])


def test_tutorial_remote_file_snippet_runs_unchanged(load, http_server):
    """The 0.9 tutorial's "Remote Files" cell, with only the URL pointing at the local server."""
    load()
    from parsl.data_provider.files import File

    @python_app
    def sort_numbers(inputs=[]):  # noqa: B006 (the docs' example, unchanged)
        with open(inputs[0].filepath) as f:
            strs = [n.strip() for n in f.readlines()]
            strs.sort()
            return strs

    unsorted_file = File(f"{http_server}/files/numbers.txt")
    f = sort_numbers(inputs=[unsorted_file])
    assert f.result(timeout=30) == ["1", "3", "5", "7", "9"]


@pytest.mark.slow
@pytest.mark.parametrize("staging", ["in_task", "separate_task"])
def test_htex_stages_http_files(htex_config, http_server, https_server, tls_cert, staging, tmp_path):
    cls = HTTPInTaskStaging if staging == "in_task" else HTTPSeparateTaskStaging
    cfg = htex_config(storage_access=[cls(verify=tls_cert[0])], working_dir=str(tmp_path / "wd"))
    with parsl.load(cfg):
        futs = [
            read_with_path(inputs=[File(f"{http_server}/files/a/data.txt")]),
            read_with_path(inputs=[File(f"{https_server}/files/b/data.txt")]),
        ]
        results = [f.result(timeout=60) for f in futs]
        assert [t for _, t in results] == ["from a\n", "from b\n"]
        assert results[0][0] != results[1][0]
        assert all(p.startswith(str(tmp_path / "wd")) for p, _ in results)
        bad = read(inputs=[File(f"{http_server}/status/500/x.txt")])
        expected = HTTPStagingError if staging == "in_task" else DependencyError
        with pytest.raises(expected) as info:
            bad.result(timeout=60)
        err = info.value if staging == "in_task" else info.value.__cause__
        assert isinstance(err, HTTPStagingError) and err.status == 500
