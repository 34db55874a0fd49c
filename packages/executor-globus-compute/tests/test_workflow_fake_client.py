"""Workflows on a real DataFlowKernel whose tasks go through GlobusComputeExecutor and the real SDK.

The Globus Compute service is the in-process fake of ``fake_compute_service`` (its client is
faked); the kernel, the apps and the SDK's submission and result paths are the real ones.
"""

from __future__ import annotations

import os

import pytest
from globus_compute_sdk.errors import TaskExecutionFailed

from parsl import bash_app, join_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl_executor_globus_compute import GlobusComputeExecutor

TIMEOUT = 60


@python_app(executors=["gc"])
def square(x):
    return x * x


@python_app(executors=["gc"])
def total(inputs=()):
    return sum(inputs)


@python_app(executors=["gc"])
def fail(message):
    raise RuntimeError(message)


@python_app(executors=["gc"])
def pid():
    import os

    return os.getpid()


@python_app(executors=["gc"])
def fail_first_time(marker):
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise OSError("first attempt fails")
    return "second attempt"


@python_app(executors=["gc"])
def write(text, outputs=()):
    with open(outputs[0], "w") as f:
        f.write(text)


@python_app(executors=["gc"])
def read(inputs=()):
    with open(inputs[0]) as f:
        return f.read()


@bash_app(executors=["gc"])
def echo(word, stdout=None):
    return f"echo {word}"


@bash_app(executors=["gc"])
def exit_with(code):
    return f"exit {code}"


@join_app
def fan(n):
    return total(inputs=[square(i) for i in range(n)])


@pytest.fixture
def gc_dfk(load, service):
    return load(
        Config(
            executors=[GlobusComputeExecutor(service.sdk_executor(), label="gc")],
            run_dir="runinfo",
            strategy="none",
        )
    )


def test_apps_and_dependencies_run_through_the_sdk_fake_client(gc_dfk, service):
    assert total(inputs=[square(i) for i in range(10)]).result(timeout=TIMEOUT) == 285
    assert fan(4).result(timeout=TIMEOUT) == 14
    assert len(service.task_specs) == 10 + 1 + 4 + 1  # every app task went to the endpoint
    assert {s["endpoint_id"] for s in service.submissions} == {service.endpoint_id}


def test_a_failing_app_fails_with_the_remote_traceback_and_others_finish_fake_client(gc_dfk):
    bad = fail("the app failed on the endpoint")
    good = [square(i) for i in range(4)]
    assert [f.result(timeout=TIMEOUT) for f in good] == [0, 1, 4, 9]
    exc = bad.exception(timeout=TIMEOUT)
    assert isinstance(exc, TaskExecutionFailed)
    assert "RuntimeError: the app failed on the endpoint" in str(exc)
    assert gc_dfk.tasks_failed_count == 1


def test_dependent_of_a_failed_task_is_a_dependency_failure_fake_client(gc_dfk):
    from parsl.dataflow.errors import DependencyError

    assert isinstance(square(fail("upstream")).exception(timeout=TIMEOUT), DependencyError)


def test_retries_run_the_task_again_through_the_sdk_fake_client(load, service, tmp_path):
    load(
        Config(
            executors=[GlobusComputeExecutor(service.sdk_executor(), label="gc")],
            retries=1,
            run_dir="runinfo",
            strategy="none",
        )
    )
    fut = fail_first_time(str(tmp_path / "attempted"))
    assert fut.result(timeout=TIMEOUT) == "second attempt"
    assert len(service.task_specs) == 2


def test_resource_specification_reaches_the_service_per_task_fake_client(gc_dfk, service):
    spec = {"num_nodes": 2, "ranks_per_node": 8, "user_endpoint_config": {"account": "proj-1"}}
    plain = pid()
    assert plain.result(timeout=TIMEOUT) > 0
    with_spec = pid(parsl_resource_specification=spec)
    assert with_spec.result(timeout=TIMEOUT) > 0
    received = list(service.task_specs.values())
    assert received == [(None, None), ({"num_nodes": 2, "ranks_per_node": 8}, {"account": "proj-1"})]


def test_bash_apps_run_on_the_endpoint_fake_client(gc_dfk, tmp_path):
    out = tmp_path / "echo.out"
    assert echo("hello", stdout=str(out)).result(timeout=TIMEOUT) == 0
    assert out.read_text() == "hello\n"
    exc = exit_with(3).exception(timeout=TIMEOUT)
    # the endpoint returns the traceback text, so BashExitFailure arrives inside TaskExecutionFailed
    assert isinstance(exc, TaskExecutionFailed)
    assert "BashExitFailure" in str(exc) and "3" in str(exc)


def test_files_pass_between_tasks_fake_client(gc_dfk, tmp_path):
    target = File(os.path.join(str(tmp_path), "data.txt"))
    written = write("payload", outputs=[target])
    assert read(inputs=[written.outputs[0]]).result(timeout=TIMEOUT) == "payload"


def test_cleanup_shuts_the_sdk_executor_down_fake_client(load, service):
    sdk = service.sdk_executor()
    dfk = load(Config(executors=[GlobusComputeExecutor(sdk, label="gc")], run_dir="runinfo", strategy="none"))
    assert square(3).result(timeout=TIMEOUT) == 9
    dfk.cleanup()
    assert sdk._stopped
    with pytest.raises(RuntimeError, match="shut down"):
        dfk.executors["gc"].submit(abs, {}, -1)


def test_an_sdk_executor_without_endpoint_fails_at_load_fake_client(load, service):
    from parsl.errors import ConfigurationError

    sdk = service.sdk_executor(endpoint_id=None)
    try:
        with pytest.raises(ConfigurationError, match="endpoint_id"):
            load(
                Config(executors=[GlobusComputeExecutor(sdk, label="gc")], run_dir="runinfo", strategy="none")
            )
    finally:
        sdk.shutdown(wait=False)
