"""Behaviours Parsl scripts (and Parsl's own test suite) rely on: type-check errors, exact
messages, stack-safe dependency chains, logging configs, staging and checkpoint details."""

from __future__ import annotations

import inspect
import json
import logging
import os
import pickle
import zipfile
from concurrent.futures import Future
from copy import deepcopy
from typing import ClassVar

import pytest

import parsl
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.errors import ConfigurationError, NoDataFlowKernelError
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor


# ------------------------------------------------------------ TypeCheckError
@pytest.mark.parametrize(
    "kwargs",
    [
        {"exit_mode": "wrongmode"},
        {"usage_tracking": "abcd"},
        {"usage_tracking": None},
        {"usage_tracking": 1.0},
        {"project_name": 1},
        {"retries": "2"},
        {"checkpoint_mode": "sometimes"},
        {"executors": 3},
        {"retry_handler": 5},
    ],
)
def test_wrong_type_or_choice_is_type_check_error(kwargs):
    import typeguard

    from parsl.errors import TypeCheckError

    with pytest.raises(TypeCheckError) as ei:
        Config(**kwargs)
    err = ei.value
    assert type(err).__name__ == "TypeCheckError"
    assert isinstance(err, ConfigurationError)
    assert isinstance(err, typeguard.TypeCheckError) and isinstance(err, TypeError)
    field = next(iter(kwargs))
    assert f"Config({field}=" in str(err)


@pytest.mark.parametrize("kwargs", [{"usage_tracking": 12}, {"usage_tracking": -1}, {"retries": -1}])
def test_out_of_range_is_plain_configuration_error(kwargs):
    from parsl.errors import TypeCheckError

    with pytest.raises(ConfigurationError) as ei:
        Config(**kwargs)
    assert not isinstance(ei.value, TypeCheckError)


def test_type_check_error_pickles():
    from parsl.errors import TypeCheckError, type_check_error

    err = pickle.loads(pickle.dumps(type_check_error("Config(x=1): use 2")))
    assert type(err) is TypeCheckError and str(err) == "Config(x=1): use 2"


def test_usage_tracking_levels_are_accepted():
    from parsl.usage_tracking.levels import DISABLED, LEVEL_1, LEVEL_3

    assert (DISABLED, LEVEL_1, LEVEL_3) == (0, 1, 3)
    for level in (DISABLED, LEVEL_3, True, False):
        assert Config(usage_tracking=level).usage_tracking == level


# ------------------------------------------------------------------- kernel
def test_no_dfk_message_is_parsls_with_a_note():
    parsl.clear()

    @parsl.python_app
    def f():
        return 1

    with pytest.raises(NoDataFlowKernelError) as ei:
        f()
    assert str(ei.value) == "Must first load config"
    assert ei.value.args == ("Must first load config",) and vars(ei.value) == {}


class _ImmediateExecutor(ParslExecutor):
    """Runs each task inside submit(): completions happen inside launches."""

    depths: ClassVar[list[int]] = []  # shared by every instance: the test reads it afterwards

    def start(self):
        pass

    def shutdown(self):
        pass

    def submit(self, func, resource_specification, *args, **kwargs):
        self.depths.append(len(inspect.stack(0)))
        fut = Future()
        fut.set_result(func(*args, **kwargs))
        return fut


def test_dependency_chain_launches_at_constant_stack_depth(load):
    _ImmediateExecutor.depths = []
    load(Config(executors=[_ImmediateExecutor(label="imm")], strategy="none"))

    @parsl.python_app
    def step(x):
        return x + 1

    start: Future = Future()
    fut = start
    for _ in range(150):
        fut = step(fut)
    start.set_result(0)
    assert fut.result(timeout=10) == 150
    depths = _ImmediateExecutor.depths
    assert len(depths) == 150 and max(depths) - min(depths) <= 3


def test_futures_in_default_inputs_are_waited_for(dfk):
    @parsl.python_app
    def ident(x):
        return x

    @parsl.python_app
    def total(inputs=[ident(1), ident(2)]):  # noqa: B006, B008 - a default inputs list, as in Parsl
        return sum(inputs)

    assert total().result(timeout=10) == 3


def test_raising_retry_handler_fails_task_with_its_exception(load):
    def handler(exc, task_record):
        raise RuntimeError("handler says no")

    load(retries=2, retry_handler=handler)

    @parsl.python_app
    def boom():
        raise ValueError("app failed")

    exc = boom().exception(timeout=10)
    assert isinstance(exc, RuntimeError) and exc.args[0] == "handler says no"
    assert isinstance(exc.__cause__, ValueError)


def test_state_changes_logged_at_debug_with_state_extra(load, caplog, monkeypatch):
    monkeypatch.setenv("PARSL_LOG_LEVEL", "DEBUG")
    load()

    @parsl.python_app
    def ok():
        return 1

    ok().result(timeout=10)
    states = {r.__dict__["parsl.task_state"] for r in caplog.records if "parsl.task_state" in r.__dict__}
    assert {"pending", "launched", "exec_done"} <= states


def test_state_changes_not_logged_at_default_level(load, caplog):
    load()

    @parsl.python_app
    def ok():
        return 1

    ok().result(timeout=10)
    assert not [r for r in caplog.records if "parsl.task_state" in r.__dict__]


# ------------------------------------------------------------------ logging
def test_oneshot_logging_counts_users_across_pickled_copies(tmp_path):
    import parsl.logconfigs.base as b

    calls = []

    class Recording(b.LogConfig):
        def initialize_logging(self, *, log_dir, log_name):
            calls.append(log_name)
            return lambda: calls.append("undone")

    lc = Recording()
    copy = deepcopy(lc)  # as a pickled copy arriving in the same process
    assert copy.uuid == lc.uuid
    b.oneshot_initialize_logging(log_config=lc, log_dir=tmp_path, log_name="a")
    b.oneshot_initialize_logging(log_config=copy, log_dir=tmp_path, log_name="b")
    assert calls == ["a"]
    b.oneshot_uninitialize_logging(log_config=copy)
    assert calls == ["a"]
    b.oneshot_uninitialize_logging(log_config=lc)
    assert calls == ["a", "undone"] and lc.uuid not in b._initialized_log_contexts


def test_file_logging_uses_format_string(load, tmp_path):
    from parsl.logconfigs.file import FileLogging

    dfk = load(initialize_logging=FileLogging(format_string="XXX %(message)s"))
    run_dir = dfk.run_dir
    dfk.cleanup()
    lines = open(os.path.join(run_dir, "parsl.log")).readlines()
    assert lines and all(line.startswith("XXX ") for line in lines)


def test_json_logging_records_extras_and_is_removed(load):
    from parsl.logconfigs.json import JSONLogging

    root_handlers = list(logging.getLogger().handlers)
    dfk = load(initialize_logging=JSONLogging())
    logging.getLogger("someapp").warning("hello %s", "there", extra={"parsl.somekey": "vv"})
    run_dir = dfk.run_dir
    dfk.cleanup()
    assert logging.getLogger().handlers == root_handlers
    docs = [json.loads(line) for line in open(os.path.join(run_dir, "parsl.jsonlog"))]
    mine = [d for d in docs if d["name"] == "someapp"]
    assert len(mine) == 1
    assert mine[0]["formatted"] == "hello there" and mine[0]["parsl.somekey"] == "vv"


def test_noop_logging_writes_no_log(load):
    from parsl.logconfigs.noop import NoopLogging

    dfk = load(initialize_logging=NoopLogging())
    assert not os.path.exists(os.path.join(dfk.run_dir, "parsl.log"))


def test_default_log_lines_start_with_epoch_seconds(load):
    dfk = load()
    run_dir = dfk.run_dir
    dfk.cleanup()
    first = open(os.path.join(run_dir, "parsl.log")).readline()
    assert float(first.partition(" ")[0]) > 1e9


def test_wrap_with_logs(caplog):
    from parsl.process_loggers import wrap_with_logs

    @wrap_with_logs
    def fine():
        return 5

    @wrap_with_logs(target="parsl.custom")
    def broken():
        raise KeyError("x")

    caplog.set_level(logging.DEBUG)
    assert fine() == 5
    assert "Normal ending for" in caplog.text
    with pytest.raises(KeyError):
        broken()
    rec = [r for r in caplog.records if "Exceptional ending" in r.getMessage()]
    assert rec and rec[0].name == "parsl.custom" and rec[0].levelno == logging.ERROR and rec[0].exc_info


# -------------------------------------------------------------------- utils
def test_representation_mixin_validation_switch():
    from parsl.utils import RepresentationMixin

    class Lenient(RepresentationMixin):
        def __init__(self, x, y):
            self.y = y

    class Strict(Lenient):
        _validate_repr = True

    assert repr(Lenient(1, 2)) == "Lenient(y=2)"
    with pytest.raises(AttributeError):
        repr(Strict(1, 2))


@pytest.mark.parametrize(
    "raw,expected", [("EXAMPLE", "example"), ("!@#ex*", "ex"), ("--a--", "a"), ("a" * 70, "a" * 63)]
)
def test_sanitize_dns_label(raw, expected):
    from parsl.utils import sanitize_dns_label_rfc1123

    assert sanitize_dns_label_rfc1123(raw) == expected


def test_sanitize_dns_errors_and_subdomain():
    from parsl.utils import sanitize_dns_label_rfc1123, sanitize_dns_subdomain_rfc1123

    with pytest.raises(ValueError, match="Sanitized DNS label is empty for input '\\$\\$'"):
        sanitize_dns_label_rfc1123("$$")
    with pytest.raises(ValueError, match=r"Sanitized DNS subdomain is empty for input '\.\.\.'"):
        sanitize_dns_subdomain_rfc1123("...")
    assert sanitize_dns_subdomain_rfc1123("..My..Host.-x-.") == "my.host.x"
    long = sanitize_dns_subdomain_rfc1123(("a" * 61 + ".") * 4 + ".aaaa-a")
    assert len(long) <= 253 and long[-1].isalnum()


def test_small_utils(tmp_path):
    import threading

    from parsl.utils import AtomicIDCounter, time_limited_open, wtime_to_minutes

    assert wtime_to_minutes("01:30:01") == 91
    c = AtomicIDCounter()
    assert [c.get_id() for _ in range(3)] == [0, 1, 2]
    target = tmp_path / "late.txt"
    threading.Timer(0.2, target.write_text, args=("hi",)).start()
    with time_limited_open(target, "r", seconds=5) as f:
        assert f.read() == "hi"
    with pytest.raises(FileNotFoundError), time_limited_open(tmp_path / "never", "r", seconds=0.1):
        pass


@pytest.mark.parametrize(
    "address,port,url",
    [
        ("127.0.0.1", 5, "tcp://127.0.0.1:5"),
        ("::1", "5", "tcp://[::1]:5"),
        ("::1", None, "tcp://::1"),
        ("*", 5, "tcp://*:5"),
        ("example.org", 5, "tcp://example.org:5"),
    ],
)
def test_tcp_url(address, port, url):
    from parsl.addresses import tcp_url

    assert tcp_url(address, port) == url


def test_not_shipped_executors_say_so():  # more in test_not_shipped_executors.py
    from parsl.executors import WorkQueueExecutor

    with pytest.raises(Exception, match="parslcore does not ship a Work Queue executor"):
        WorkQueueExecutor()


def test_serialize_modules():
    from parsl.executors.errors import SerializationError as A
    from parsl.serialize import deserialize, serialize
    from parsl.serialize.concretes import PickleSerializer
    from parsl.serialize.errors import SerializationError as B

    assert A is B
    s = PickleSerializer()
    assert s.deserialize(s.serialize([1, 2])) == [1, 2]
    assert deserialize(serialize({"a": 1})) == {"a": 1}


def test_join_terminate_close_proc():
    from parsl.multiprocessing import SpawnContext, join_terminate_close_proc

    p = SpawnContext.Process(target=pow, args=(2, 3))
    p.start()
    join_terminate_close_proc(p, timeout=30)
    with pytest.raises(ValueError):  # closed
        p.is_alive()


# ------------------------------------------------------------------ staging
@parsl.bash_app
def _write_outputs(outputs=()):
    return "; ".join(f"echo {i} > {f}" for i, f in enumerate(outputs))


@parsl.python_app
def _count_lines(f):
    with open(f) as fh:
        return len(fh.readlines())


def test_zip_stage_out_in_and_std_streams(dfk, tmp_path):
    from parsl.app.futures import DataFuture

    zp = tmp_path / "box.zip"
    outs = [File(f"zip:{zp}/a/one.txt"), File(f"zip:{zp}/two.txt")]
    fut = _write_outputs(outputs=outs)
    [o.result(timeout=10) for o in fut.outputs]
    with zipfile.ZipFile(zp) as z:
        assert sorted(z.namelist()) == ["a/one.txt", "two.txt"]
        assert z.read("two.txt") == b"1\n"
    # stage in: the member is extracted for the task
    assert _count_lines(File(f"zip:{zp}/a/one.txt")).result(timeout=10) == 1
    assert _count_lines(fut.outputs[1]).result(timeout=10) == 1
    # a zip File as stdout: fut.stdout is its DataFuture
    echo = parsl.bash_app(lambda stdout=None: "echo streamed")
    f2 = echo(stdout=File(f"zip:{zp}/log.out"))
    assert isinstance(f2.stdout, DataFuture)
    f2.stdout.result(timeout=10)
    with zipfile.ZipFile(zp) as z:
        assert z.read("log.out") == b"streamed\n"


def test_zip_authority_and_split(dfk, tmp_path):
    from parsl.data_provider.zip import ZipAuthorityError, zip_path_split

    assert zip_path_split("/t/x.zip/in/here.txt") == ("/t/x.zip", "in/here.txt")
    with pytest.raises(ZipAuthorityError):
        _write_outputs(outputs=[File(f"zip://host/{tmp_path}/c.zip/d.txt")])


class _SetsLocalPath(Staging):
    def can_stage_in(self, file):
        return file.scheme == "sp2"

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = "./staged.tmp"
        return None


class _Refuses(Staging):
    def can_stage_in(self, file):
        return file.scheme == "file"

    def can_stage_out(self, file):
        return file.scheme == "file"

    def stage_in(self, dm, executor, file, parent_fut):
        raise OSError("stage in refused")

    def stage_out(self, dm, executor, file, app_fu):
        raise OSError("stage out refused")


@parsl.python_app
def _local_path_of(f):
    return f.local_path


def test_positional_files_are_staged_on_a_copy(load):
    load(Config(executors=[ThreadPoolExecutor(storage_access=[_SetsLocalPath()])], strategy="none"))
    f = File("sp2://somewhere/x")
    assert _local_path_of(f).result(timeout=10) == "./staged.tmp"
    assert f.local_path is None


def test_executor_staging_providers_see_local_files(load, tmp_path):
    load(Config(executors=[ThreadPoolExecutor(storage_access=[_Refuses()])], strategy="none"))
    with pytest.raises(OSError, match="stage in refused"):
        _local_path_of(File(str(tmp_path / "x"))).result(timeout=10)
    with pytest.raises(OSError, match="stage out refused"):
        _write_outputs(outputs=[File(str(tmp_path / "y"))]).result(timeout=10)


# ------------------------------------------------------------ checkpointing
@parsl.python_app(cache=True)
def _token(x):
    import uuid

    return uuid.uuid4()


def _run(run_dir, memoizer, x="k"):
    from parsl.dataflow.memoization import BasicMemoizer  # noqa: F401

    with parsl.load(
        Config(run_dir=str(run_dir), executors=[ThreadPoolExecutor()], strategy="none", memoizer=memoizer)
    ) as dfk:
        return _token(x).result(timeout=10), dfk.run_dir


def test_checkpoints_default_restore_and_chain(tmp_path):
    from parsl.dataflow.memoization import BasicMemoizer
    from parsl.utils import get_last_checkpoint

    first, _ = _run(tmp_path, BasicMemoizer(checkpoint_mode="task_exit"))
    # checkpoint_files left unset restores every earlier run of this run_dir
    second, _ = _run(tmp_path, BasicMemoizer(checkpoint_mode="task_exit"))
    assert second == first
    # a restored result is checkpointed again, so "only the last checkpoint" keeps it
    third, _ = _run(
        tmp_path,
        BasicMemoizer(checkpoint_mode="task_exit", checkpoint_files=get_last_checkpoint(str(tmp_path))),
    )
    assert third == first
    fresh, _ = _run(tmp_path, BasicMemoizer(checkpoint_mode="task_exit", checkpoint_files=[]))
    assert fresh != first


def test_last_checkpoint_orders_run_dirs_numerically(tmp_path):
    from parsl.utils import get_all_checkpoints, get_last_checkpoint

    for name in ("999", "1000", "X"):
        os.makedirs(tmp_path / name / "checkpoint")
    (tmp_path / "notadir").write_text("")
    assert get_last_checkpoint(str(tmp_path)) == [str(tmp_path / "1000" / "checkpoint")]
    assert [os.path.basename(os.path.dirname(p)) for p in get_all_checkpoints(str(tmp_path))] == [
        "X",
        "999",
        "1000",
    ]


def test_periodic_checkpoint_logs_each_pass(tmp_path):
    import time

    from parsl.dataflow.memoization import BasicMemoizer

    memo = BasicMemoizer(checkpoint_mode="periodic", checkpoint_period="00:00:01")
    with parsl.load(
        Config(run_dir=str(tmp_path), executors=[ThreadPoolExecutor()], strategy="none", memoizer=memo)
    ) as dfk:
        _token("p").result(timeout=10)
        time.sleep(2.5)
        run_dir = dfk.run_dir
    text = open(os.path.join(run_dir, "parsl.log")).read()
    assert "Done checkpointing 1 tasks" in text
    assert "No tasks checkpointed in this pass" in text
