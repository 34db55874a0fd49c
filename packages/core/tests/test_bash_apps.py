"""bash_app: command lines, std streams, exit codes, outputs, walltime, files and futures."""

from __future__ import annotations

import os
import pathlib
import time

import pytest

import parsl
from parsl import File, bash_app, python_app
from parsl.app.errors import (
    AppBadFormatting,
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)
from parsl.app.futures import DataFuture
from parsl.dataflow.errors import DependencyError


@bash_app
def echo(msg, stdout=None, stderr=None):
    return f"echo {msg}"


@bash_app
def echo_both(msg, stdout=None, stderr=None):
    return f"echo out-{msg}; echo err-{msg} >&2"


@bash_app
def exit_with(code):
    return f"exit {code}"


@bash_app
def returns_none():
    pass


@bash_app
def returns_int():
    return 42


@bash_app
def bad_format(x):
    return "echo {} {}".format(x)  # noqa: F524  (deliberately too few arguments)


@bash_app
def write_file(text, outputs=()):
    return f"echo {text} > {outputs[0]}"


@bash_app
def promise_but_skip(outputs=()):
    return "true"


@bash_app
def cat(inputs=(), stdout=None):
    return "cat " + " ".join(str(i) for i in inputs)


@bash_app
def concat(inputs=(), outputs=()):
    return "cat {} > {}".format(" ".join(i.filepath for i in inputs), outputs[0].filepath)


@bash_app
def sleeper(seconds, marker, walltime=None):
    return f"sleep {seconds}; touch {marker}"


@bash_app
def bashism(stdout=None):
    return 'if [[ "abc" == a* ]]; then echo "bash $BASH_VERSION"; fi'


def test_result_is_zero(dfk):
    assert echo("hi").result() == 0


def test_command_comes_from_body(dfk, tmp_path):
    out = tmp_path / "o.txt"
    assert echo("hello world", stdout=str(out)).result() == 0
    assert out.read_text() == "hello world\n"


def test_runs_under_bash(dfk, tmp_path):
    out = tmp_path / "b.txt"
    assert bashism(stdout=str(out)).result() == 0
    assert out.read_text().startswith("bash ")
    assert len(out.read_text().split()) == 2  # $BASH_VERSION was set


def test_stdout_stderr_as_str(dfk, tmp_path):
    out, err = tmp_path / "out", tmp_path / "err"
    fut = echo_both("x", stdout=str(out), stderr=str(err))
    assert fut.result() == 0
    assert fut.stdout == str(out) and fut.stderr == str(err)
    assert out.read_text() == "out-x\n"
    # like Parsl, the command line is written to stderr before the command's own output
    assert err.read_text() == (
        "--> executable follows <--\necho out-x; echo err-x >&2\n--> end executable <--\nerr-x\n"
    )


def test_stdout_appends_by_default(dfk, tmp_path):
    out = tmp_path / "log.txt"
    echo("first", stdout=str(out)).result()
    echo("second", stdout=str(out)).result()
    assert out.read_text() == "first\nsecond\n"


def test_stdout_pathlike(dfk, tmp_path):
    out = tmp_path / "sub" / "p.txt"  # missing directory is created
    assert echo("pathlike", stdout=out).result() == 0
    assert out.read_text() == "pathlike\n"


def test_stdout_tuple_mode_w_truncates(dfk, tmp_path):
    out = tmp_path / "t.txt"
    out.write_text("old content\n")
    echo("new", stdout=(str(out), "w")).result()
    assert out.read_text() == "new\n"
    echo("more", stdout=(str(out), "a")).result()
    assert out.read_text() == "new\nmore\n"


def test_stdout_file_object_truncates(dfk, tmp_path):
    (tmp_path / "f.txt").write_text("previous run\n")
    target = File(str(tmp_path / "f.txt"))
    assert echo("via File", stdout=target).result() == 0
    assert (tmp_path / "f.txt").read_text() == "via File\n"


@pytest.mark.parametrize("runner", ["1", "0"])
def test_std_streams_same_with_and_without_bash_runner(dfk, tmp_path, monkeypatch, runner):
    monkeypatch.setenv("PARSL_BASH_RUNNER", runner)
    out, err = tmp_path / "o", tmp_path / "e"
    out.write_text("kept\n")
    err.write_text("gone\n")
    fut = echo_both("r", stdout=str(out), stderr=(str(err), "w"))
    assert fut.result() == 0
    assert out.read_text() == "kept\nout-r\n"
    assert err.read_text().endswith("--> end executable <--\nerr-r\n")
    assert not err.read_text().startswith("gone")
    assert isinstance(exit_with(4).exception(), BashExitFailure)
    assert exit_with(4).exception().exitcode == 4


def test_bad_std_spec(dfk, tmp_path):
    import typeguard

    from parsl.errors import ConfigurationError, TypeCheckError

    # a spec of the wrong shape or type is a TypeCheckError (as typeguard raises in Parsl)
    for spec in (
        (str(tmp_path / "a"), "w", "extra"),
        (str(tmp_path / "a"),),
        42,
        [str(tmp_path / "a"), "w"],
        (str(tmp_path / "a"), None),
        (42, "w"),
    ):
        exc = echo("x", stdout=spec).exception()
        assert isinstance(exc, TypeCheckError), spec
        assert isinstance(exc, (typeguard.TypeCheckError, TypeError, ConfigurationError))
        assert "stdout=" in str(exc) and "(path, mode)" in str(exc)
    # a mode open() rejects is a bad stream file
    with pytest.raises(BadStdStreamFile):
        echo("x", stdout=(str(tmp_path / "b"), "badmode")).result()
    (tmp_path / "plainfile").write_text("")
    with pytest.raises(BadStdStreamFile):  # a path below a regular file cannot be created
        echo("x", stdout=str(tmp_path / "plainfile" / "out")).result()


def test_auto_logname(dfk):
    fut = echo_both("auto", stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME)
    assert fut.result() == 0
    assert isinstance(fut.stdout, str) and isinstance(fut.stderr, str)
    logdir = os.path.join(dfk.run_dir, "task_logs")
    assert fut.stdout.startswith(logdir + os.sep)
    assert fut.stdout.endswith(".stdout") and fut.stderr.endswith(".stderr")
    assert "echo_both" in os.path.basename(fut.stdout)
    assert f"task_{fut.tid:04d}" in os.path.basename(fut.stdout)
    assert open(fut.stdout).read() == "out-auto\n"
    assert "err-auto" in open(fut.stderr).read()


def test_auto_logname_as_default_argument(dfk):
    @bash_app
    def defaults(stdout=parsl.AUTO_LOGNAME):
        return "echo from-default"

    fut = defaults()
    assert fut.result() == 0
    assert fut.stdout.startswith(dfk.run_dir)
    assert open(fut.stdout).read() == "from-default\n"


def test_std_autopath_config(load, tmp_path):
    seen = []

    def autopath(task_record, kind):
        seen.append((task_record["id"], kind))
        return str(tmp_path / f"custom-{task_record['id']}.{kind}")

    load(std_autopath=autopath)
    fut = echo("custom", stdout=parsl.AUTO_LOGNAME)
    assert fut.result() == 0
    assert seen == [(fut.tid, "stdout")]
    assert fut.stdout == str(tmp_path / f"custom-{fut.tid}.stdout")
    assert (tmp_path / f"custom-{fut.tid}.stdout").read_text() == "custom\n"


def test_nonzero_exit_is_bash_exit_failure(dfk):
    fut = exit_with(3)
    exc = fut.exception()
    assert isinstance(exc, BashExitFailure)
    assert isinstance(exc, AppException)
    assert exc.exitcode == 3
    assert "3" in str(exc) and "exit_with" in str(exc)
    with pytest.raises(BashExitFailure):
        fut.result()
    assert fut.task_status() == "failed"


def test_command_not_found_exit_code(dfk):
    @bash_app
    def missing_command():
        return "this-command-does-not-exist-anywhere"

    exc = missing_command().exception()
    assert isinstance(exc, BashExitFailure) and exc.exitcode == 127


def test_missing_outputs(dfk, tmp_path):
    target = File(str(tmp_path / "never.txt"))
    fut = promise_but_skip(outputs=[target])
    exc = fut.exception()
    assert isinstance(exc, MissingOutputs)
    assert [os.fspath(f) for f in exc.outputs] == [target.filepath]
    # the output's DataFuture fails too
    assert isinstance(fut.outputs[0].exception(), MissingOutputs)


def test_body_returning_none(dfk):
    exc = returns_none().exception()
    assert isinstance(exc, BashAppNoReturn)
    assert isinstance(exc, ValueError)  # what current Parsl raises for a non-str command line


def test_body_returning_non_str(dfk):
    with pytest.raises(BashAppNoReturn):
        returns_int().result()


def test_bad_formatting(dfk):
    fut = bad_format("only-one")
    exc = fut.exception()
    assert isinstance(exc, AppBadFormatting)
    assert "bad_format" in str(exc)


def test_body_raising_other_exception_keeps_type(dfk):
    @bash_app
    def raises():
        raise ZeroDivisionError("in body")

    with pytest.raises(ZeroDivisionError, match="in body"):
        raises().result()


def test_walltime_kills_the_process(dfk, tmp_path):
    marker = tmp_path / "finished"
    t0 = time.monotonic()
    fut = sleeper(1, str(marker), walltime=0.2)
    with pytest.raises(AppTimeout):
        fut.result(timeout=10)
    assert time.monotonic() - t0 < 0.9
    time.sleep(1.1)
    assert not marker.exists(), "the timed-out command kept running"


def test_walltime_not_reached(dfk, tmp_path):
    marker = tmp_path / "done"
    assert sleeper(0, str(marker), walltime=5).result() == 0
    assert marker.exists()


def test_walltime_as_default_argument(dfk, tmp_path):
    @bash_app
    def limited(walltime=0.2):
        return "sleep 3"

    t0 = time.monotonic()
    with pytest.raises(AppTimeout):
        limited().result(timeout=10)
    assert time.monotonic() - t0 < 2


def test_outputs_chain_between_bash_apps(dfk, tmp_path):
    first = write_file("hello", outputs=[File(str(tmp_path / "a.txt"))])
    assert isinstance(first.outputs[0], DataFuture)
    out = tmp_path / "cat.txt"
    second = cat(inputs=[first.outputs[0]], stdout=str(out))
    assert second.result() == 0
    assert out.read_text() == "hello\n"


def test_concat_many_outputs(dfk, tmp_path):
    parts = [write_file(f"part{i}", outputs=[File(str(tmp_path / f"p{i}.txt"))]) for i in range(5)]
    joined = concat(inputs=[p.outputs[0] for p in parts], outputs=[File(str(tmp_path / "all.txt"))])
    result_file = joined.outputs[0].result()
    assert isinstance(result_file, File)
    assert open(result_file.filepath).read().split() == [f"part{i}" for i in range(5)]


def test_bash_output_feeds_python_app(dfk, tmp_path):
    @python_app
    def read(inputs=()):
        with open(inputs[0]) as f:
            return f.read().strip()

    made = write_file("for-python", outputs=[File(str(tmp_path / "x.txt"))])
    assert read(inputs=[made.outputs[0]]).result() == "for-python"


def test_failed_producer_fails_consumer(dfk, tmp_path):
    @bash_app
    def broken_writer(outputs=()):
        return "exit 1"

    made = broken_writer(outputs=[File(str(tmp_path / "y.txt"))])
    fut = cat(inputs=[made.outputs[0]])
    exc = fut.exception()
    assert isinstance(exc, DependencyError)
    assert exc.dependent_exceptions_tids[0][1] == f"DataFuture from task {made.tid}"
    assert isinstance(exc.dependent_exceptions_tids[0][0], BashExitFailure)


def test_future_arguments_are_resolved_before_formatting(dfk, tmp_path):
    @python_app
    def word():
        return "resolved"

    out = tmp_path / "w.txt"
    assert echo(word(), stdout=str(out)).result() == 0
    assert out.read_text() == "resolved\n"


def test_inputs_outputs_passed_to_body_only_when_declared(dfk, tmp_path):
    @bash_app
    def plain():
        return "true"

    # Parsl-special kwargs the body does not declare are not passed to it
    assert plain(stdout=str(tmp_path / "s"), inputs=[], outputs=[]).result() == 0


def test_pathlib_outputs(dfk, tmp_path):
    target = pathlib.Path(tmp_path / "pl.txt")
    fut = write_file("pl", outputs=[str(target)])
    fut.result()
    assert target.read_text() == "pl\n"
    assert fut.outputs[0].result().filepath == str(target)


# ------------------------------------------------------ no formatting
def test_command_is_run_exactly_as_returned(dfk, tmp_path):
    # Since Parsl 0.9 the returned string is not .format()-ed with the app's arguments.
    @bash_app
    def greet(name, greeting="hello", stdout=None):
        return "echo {greeting} {name}"

    out = tmp_path / "greet.txt"
    greet("world", stdout=str(out)).result()
    assert out.read_text() == "{greeting} {name}\n"


def test_braces_that_are_not_argument_fields_are_left_alone(dfk, tmp_path):
    @bash_app
    def shell_braces(n, stdout=None):
        return (
            "echo a b | awk '{print $2}'; x=v; echo ${x}; HOME=h; echo ${HOME}; "
            "echo {} ; echo {0}; echo {n_not_a_param}"
        )

    out = tmp_path / "braces.txt"
    assert shell_braces(1, stdout=str(out)).result() == 0
    assert out.read_text().split("\n")[:5] == ["b", "v", "h", "{}", "{0}"]


def test_bash_variable_named_like_a_parameter_is_not_formatted(dfk, tmp_path):
    @bash_app
    def loop(i, stdout=None):
        return "for i in 1 2; do echo ${i}; done"

    out = tmp_path / "loop.txt"
    loop(9, stdout=str(out)).result()
    assert out.read_text() == "1\n2\n"


def test_09_app_failure_catches_nonzero_exit(dfk):
    from parsl.app.errors import AppFailure

    try:
        exit_with(5).result()
    except AppFailure as e:
        assert e.exitcode == 5
    else:  # pragma: no cover
        pytest.fail("no AppFailure")


def test_default_outputs_and_label_are_part_of_the_call(dfk, tmp_path):
    missing = str(tmp_path / "never.txt")

    @bash_app
    # a default outputs list, written as Parsl users write it
    def with_defaults(x, y=1, outputs=[File(missing)], label="lab", stdout=parsl.AUTO_LOGNAME):  # noqa: B006, B008
        return f"echo {x} {y}"

    fut = with_defaults(1)
    assert isinstance(fut.exception(), MissingOutputs)  # the default output is checked
    assert len(fut.outputs) == 1 and fut.outputs[0].filepath == missing
    assert fut.stdout.endswith(f"task_{fut.tid:04d}_with_defaults_lab.stdout")
    assert open(fut.stdout).read() == "1 1\n"
    # a positional argument overrides the default of the same parameter
    fut2 = with_defaults(1, 2, outputs=[])
    assert fut2.result() == 0
    assert open(fut2.stdout).read() == "1 2\n"
