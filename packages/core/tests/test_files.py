"""parsl.File, DataFuture and file staging through apps."""

from __future__ import annotations

import functools
import os
import pathlib
import pickle
import threading
from concurrent.futures import Future

import pytest

from parsl import File, bash_app, python_app
from parsl.app.futures import DataFuture
from parsl.data_provider.staging import Staging
from parsl.dataflow.errors import DependencyError
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor


# ------------------------------------------------------------------- File
def test_relative_path():
    f = File("data/input.txt")
    assert f.url == "data/input.txt"
    assert f.scheme == "file"
    assert f.netloc == ""
    assert f.path == "data/input.txt"
    assert f.filename == "input.txt"
    assert f.filepath == "data/input.txt"
    assert f.local_path is None
    assert str(f) == "data/input.txt"
    assert os.fspath(f) == "data/input.txt"


def test_file_url():
    f = File("file:///scratch/proj/input.txt")
    assert f.scheme == "file"
    assert f.netloc == ""
    assert f.path == "/scratch/proj/input.txt"
    assert f.filename == "input.txt"
    assert f.filepath == "/scratch/proj/input.txt"
    assert str(f) == "/scratch/proj/input.txt"


def test_pathlike():
    f = File(pathlib.Path("/tmp/some/where.csv"))
    assert f.url == "/tmp/some/where.csv"
    assert f.filepath == "/tmp/some/where.csv"
    assert f.filename == "where.csv"
    assert f.scheme == "file"


def test_file_of_file_takes_its_url():
    f = File(File("x/y.txt"))
    assert f.url == "x/y.txt"


def test_bad_argument_type():
    with pytest.raises(TypeError):
        File(42)


@pytest.mark.parametrize(
    "url,scheme,netloc,path",
    [
        ("https://example.org/data/x.csv", "https", "example.org", "/data/x.csv"),
        ("http://example.org:8080/a.txt", "http", "example.org:8080", "/a.txt"),
        ("ftp://ftp.example.org/pub/b.dat", "ftp", "ftp.example.org", "/pub/b.dat"),
        (
            "globus://037f054a-15cf-11e8-b611-0ac6873fc732/unsorted.txt",
            "globus",
            "037f054a-15cf-11e8-b611-0ac6873fc732",
            "/unsorted.txt",
        ),
    ],
)
def test_remote_urls(url, scheme, netloc, path):
    f = File(url)
    assert f.url == url
    assert f.scheme == scheme
    assert f.netloc == netloc
    assert f.path == path
    assert f.filename == os.path.basename(path)
    with pytest.raises(ValueError, match="local_path"):
        _ = f.filepath
    with pytest.raises(ValueError):
        str(f)
    with pytest.raises(ValueError):
        os.fspath(f)


def test_local_path_wins():
    f = File("https://example.org/data/x.csv")
    f.local_path = "/scratch/x.csv"
    assert f.filepath == "/scratch/x.csv"
    assert str(f) == "/scratch/x.csv"
    assert os.fspath(f) == "/scratch/x.csv"
    local = File("a/b.txt")
    local.local_path = "/elsewhere/b.txt"
    assert local.filepath == "/elsewhere/b.txt"


def test_repr():
    f = File("https://example.org/data/x.csv")
    r = repr(f)
    assert r.startswith("<File at 0x")
    assert r.endswith(">")
    for part in (
        "url=https://example.org/data/x.csv",
        "scheme=https",
        "netloc=example.org",
        "path=/data/x.csv",
        "filename=x.csv",
    ):
        assert part in r
    assert "local_path" not in r
    f.local_path = "/tmp/x.csv"
    assert "local_path=/tmp/x.csv" in repr(f)


def test_cleancopy():
    f = File("https://example.org/data/x.csv")
    f.local_path = "/tmp/x.csv"
    c = f.cleancopy()
    assert c is not f
    assert isinstance(c, File)
    assert c.url == f.url and c.scheme == f.scheme and c.path == f.path
    assert c.local_path is None
    assert f.local_path == "/tmp/x.csv"  # the original is untouched


def test_pickle_round_trip():
    f = File("https://example.org/data/x.csv")
    f.local_path = "/tmp/x.csv"
    g = pickle.loads(pickle.dumps(f))
    assert (g.url, g.scheme, g.netloc, g.path, g.filename, g.local_path) == (
        f.url,
        f.scheme,
        f.netloc,
        f.path,
        f.filename,
        f.local_path,
    )


def test_hash_is_stable_when_staging_sets_local_path():
    f = File("https://example.org/x")
    files = {f}
    f.local_path = "/tmp/x"
    assert f in files


def test_file_opens_directly(tmp_path):
    p = tmp_path / "hello.txt"
    p.write_text("content")
    with open(File(str(p))) as fh:
        assert fh.read() == "content"


# -------------------------------------------------------------- DataFuture
def test_datafuture_completes_with_file():
    parent: Future = Future()
    f = File("out.txt")
    df = DataFuture(parent, f, tid=7)
    assert df.tid == 7
    assert df.file_obj is f
    assert df.filepath == "out.txt"
    assert df.filename == "out.txt"
    assert not df.done()
    assert "not done" in repr(df)
    parent.set_result(0)
    assert df.done()
    assert df.result() is f
    assert "representing" in repr(df) and "done" in repr(df) and "not done" not in repr(df)
    assert repr(f) in repr(df)


def test_datafuture_carries_parent_exception():
    parent: Future = Future()
    df = DataFuture(parent, File("out.txt"), tid=1)
    parent.set_exception(OSError("producer failed"))
    assert isinstance(df.exception(), OSError)
    with pytest.raises(OSError, match="producer failed"):
        df.result()


def test_datafuture_of_finished_parent():
    parent: Future = Future()
    parent.set_result(None)
    df = DataFuture(parent, File("done.txt"), tid=2)
    assert df.done() and df.result().filepath == "done.txt"


def test_datafuture_cancel_and_running():
    parent: Future = Future()
    df = DataFuture(parent, File("x"), tid=3)
    with pytest.raises(NotImplementedError):
        df.cancel()
    assert df.cancelled() is False
    assert df.running() is False
    parent.set_running_or_notify_cancel()
    assert df.running() is True


def test_datafuture_needs_a_file():
    with pytest.raises(TypeError):
        DataFuture(Future(), "not-a-file.txt", tid=1)


# --------------------------------------------------------- files and apps
@python_app
def write(text, outputs=()):
    with open(outputs[0], "w") as f:
        f.write(text)
    return text


@python_app
def read_all(inputs=()):
    out = []
    for i in inputs:
        assert isinstance(i, File), type(i)
        with open(i.filepath) as f:
            out.append(f.read())
    return out


def test_outputs_become_inputs(dfk, tmp_path):
    a = write("A", outputs=[File(str(tmp_path / "a"))])
    b = write("B", outputs=[File(str(tmp_path / "b"))])
    assert read_all(inputs=[a.outputs[0], b.outputs[0]]).result() == ["A", "B"]


def test_local_file_input_passed_through(dfk, tmp_path):
    p = tmp_path / "in.txt"
    p.write_text("local")
    f = File(str(p))
    assert read_all(inputs=[f]).result() == ["local"]


def test_failed_producer_datafuture(dfk, tmp_path):
    @python_app
    def broken(outputs=()):
        raise RuntimeError("no file for you")

    prod = broken(outputs=[File(str(tmp_path / "never"))])
    assert isinstance(prod.outputs[0].exception(), RuntimeError)
    exc = read_all(inputs=[prod.outputs[0]]).exception()
    assert isinstance(exc, DependencyError)
    assert exc.dependent_exceptions_tids[0][1] == f"DataFuture from task {prod.tid}"


def test_remote_file_without_staging_provider_fails_at_call(dfk):
    with pytest.raises(ConfigurationError, match="s3") as info:
        read_all(inputs=[File("s3://bucket/data.csv")])
    assert isinstance(info.value, ValueError)
    # the refused call left no task behind for wait_for_current_tasks to wait on forever
    assert not any(t.status.name == "pending" for t in dfk.tasks.values())
    waiter = threading.Thread(target=dfk.wait_for_current_tasks, daemon=True)
    waiter.start()
    waiter.join(5)
    assert not waiter.is_alive()


# ---------------------------------------------------- a custom staging plugin
STORE: dict[str, str] = {}


class MemStaging(Staging):
    """``mem://name`` files: staged in by writing STORE[name] to a local file, out by reading it."""

    def __init__(self, workdir):
        self.workdir = workdir

    def can_stage_in(self, file):
        return file.scheme == "mem"

    def can_stage_out(self, file):
        return file.scheme == "mem"

    def replace_task(self, dm, executor, file, func):
        workdir = self.workdir

        def wrapper(*args, **kwargs):
            local = os.path.join(workdir, "in-" + file.netloc)
            with open(local, "w") as f:
                f.write(STORE[file.netloc])
            file.local_path = local
            return func(*args, **kwargs)

        return functools.update_wrapper(wrapper, func)

    def replace_task_stage_out(self, dm, executor, file, func):
        workdir = self.workdir

        def wrapper(*args, **kwargs):
            file.local_path = os.path.join(workdir, "out-" + file.netloc)
            result = func(*args, **kwargs)
            with open(file.local_path) as f:
                STORE[file.netloc] = f.read()
            return result

        return functools.update_wrapper(wrapper, func)


@pytest.fixture
def mem_dfk(load, tmp_path):
    STORE.clear()
    return load(executors=[ThreadPoolExecutor(label="mem", storage_access=[MemStaging(str(tmp_path))])])


def test_custom_staging_in(mem_dfk):
    STORE["greeting"] = "hello from mem"
    assert read_all(inputs=[File("mem://greeting")]).result() == ["hello from mem"]


def test_custom_staging_in_leaves_users_file_untouched(mem_dfk):
    STORE["g"] = "x"
    f = File("mem://g")
    assert read_all(inputs=[f]).result() == ["x"]
    assert f.local_path is None


def test_custom_staging_out(mem_dfk):
    fut = write("stored", outputs=[File("mem://result")])
    assert fut.result() == "stored"
    df = fut.outputs[0]
    assert isinstance(df, DataFuture)
    assert df.result().url == "mem://result"
    assert STORE["result"] == "stored"


def test_custom_staging_out_keeps_users_file_clean(mem_dfk):
    target = File("mem://clean")
    fut = write("x", outputs=[target])
    fut.result()
    assert target.local_path is None
    assert fut.outputs[0].result() is target


def test_custom_staging_out_then_in(mem_dfk):
    first = write("chained", outputs=[File("mem://chain")])
    second = read_all(inputs=[first.outputs[0]])
    assert second.result() == ["chained"]


def test_custom_staging_with_bash(mem_dfk, tmp_path):
    @bash_app
    def shout(inputs=(), outputs=()):
        return f"tr a-z A-Z < {inputs[0]} > {outputs[0]}"

    STORE["word"] = "quiet"
    fut = shout(inputs=[File("mem://word")], outputs=[File("mem://loud")])
    assert fut.result() == 0
    fut.outputs[0].result()
    assert STORE["loud"] == "QUIET"


def test_unhandled_scheme_with_custom_staging(mem_dfk):
    with pytest.raises(ConfigurationError, match="ftp"):
        read_all(inputs=[File("ftp://example.org/x")])
