"""GlobusComputeExecutor driving a real globus_compute_sdk.Executor whose client is faked.

The Globus Compute service cannot be reached here; ``fake_compute_service`` answers the SDK's
web calls, runs tasks on a local pool and streams results back over an in-process AMQP
connection, so everything on this side of the network is the real SDK.
"""

from __future__ import annotations

import threading
import time

import pytest
from globus_compute_sdk import Executor
from globus_compute_sdk.errors import TaskExecutionFailed
from globus_compute_sdk.sdk.asynchronous.compute_future import ComputeFuture

from parsl.errors import ConfigurationError
from parsl_executor_globus_compute import GlobusComputeExecutor
from parsl_executor_globus_compute.executor import _live_result_watcher

TIMEOUT = 30


def add(a, b=0):
    return a + b


def fail(message):
    raise ValueError(message)


def wait_for(gate):
    """Run until the file ``gate`` exists (arguments reach the endpoint as copies: no Events)."""
    import os
    import time

    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.02)
    return "released"


class Gate:
    """A file that tasks running ``wait_for`` wait for."""

    def __init__(self, folder):
        self.path = str(folder / "release")

    def set(self):
        open(self.path, "a").close()


def _spec_of(service, fut):
    """The (resource_specification, user_endpoint_config) the service received with ``fut``'s task."""
    fut.result(timeout=TIMEOUT)
    return service.task_specs[fut.task_id]


def _watched(sdk, count):
    """The SDK's result watcher for ``sdk`` once it waits for ``count`` results (the SDK sends
    tasks and hands them to the watcher on its own thread)."""
    for _ in range(600):
        watcher = _live_result_watcher(sdk)
        if watcher is not None and len(watcher.get_open_futures()) == count:
            return watcher
        time.sleep(0.05)
    pytest.fail(f"the SDK never handed {count} task(s) to its result watcher")


@pytest.fixture
def gce(sdk_executor):
    ex = GlobusComputeExecutor(sdk_executor)
    ex.start()
    yield ex
    ex.shutdown()


def test_submit_returns_the_sdk_future_with_the_result_fake_client(gce, service):
    fut = gce.submit(add, {}, 2, b=40)
    assert isinstance(fut, ComputeFuture)
    assert fut.result(timeout=TIMEOUT) == 42
    assert fut.task_id in service.task_specs
    assert [s["endpoint_id"] for s in service.submissions] == [service.endpoint_id]


def test_many_tasks_and_one_registration_per_function_fake_client(gce, service):
    futures = [gce.submit(add, {}, i, i) for i in range(30)]
    assert [f.result(timeout=TIMEOUT) for f in futures] == [2 * i for i in range(30)]
    assert [f["function_name"] for f in service.functions.values()] == ["add"]


def test_a_failing_task_raises_task_execution_failed_with_the_remote_traceback_fake_client(gce):
    fut = gce.submit(fail, {}, "bad input 17")
    exc = fut.exception(timeout=TIMEOUT)
    assert isinstance(exc, TaskExecutionFailed)
    assert "ValueError: bad input 17" in str(exc)
    assert "in fail" in str(exc)


def test_resource_specification_goes_with_its_task_only_fake_client(gce, service):
    spec = {"num_nodes": 2, "ranks_per_node": 4}
    with_spec = gce.submit(add, spec, 1)
    without = gce.submit(add, {}, 2)
    assert _spec_of(service, with_spec) == (spec, None)
    assert _spec_of(service, without) == (None, None)
    assert spec == {"num_nodes": 2, "ranks_per_node": 4}  # the caller's dict is not changed


def test_user_endpoint_config_is_moved_out_of_the_resource_specification_fake_client(gce, service):
    both = gce.submit(add, {"num_nodes": 1, "user_endpoint_config": {"account": "abc"}}, 1)
    only_config = gce.submit(add, {"user_endpoint_config": {"account": "xyz"}}, 1)
    assert _spec_of(service, both) == ({"num_nodes": 1}, {"account": "abc"})
    # an empty resource specification is not sent at all (the SDK leaves it out of the batch)
    assert _spec_of(service, only_config) == (None, {"account": "xyz"})


def test_the_sdk_executors_own_settings_are_the_defaults_and_are_restored_fake_client(service):
    sdk = service.sdk_executor(
        resource_specification={"num_nodes": 1}, user_endpoint_config={"queue": "debug"}
    )
    gce = GlobusComputeExecutor(sdk)
    gce.start()
    try:
        default = gce.submit(add, {}, 1)
        override = gce.submit(add, {"num_nodes": 8}, 1)
        new_config = gce.submit(add, {"num_nodes": 8, "user_endpoint_config": {"queue": "big"}}, 1)
        assert _spec_of(service, default) == ({"num_nodes": 1}, {"queue": "debug"})
        assert _spec_of(service, override) == ({"num_nodes": 8}, {"queue": "debug"})
        assert _spec_of(service, new_config) == ({"num_nodes": 8}, {"queue": "big"})
        assert sdk.resource_specification == {"num_nodes": 1}
        assert sdk.user_endpoint_config == {"queue": "debug"}
    finally:
        gce.shutdown()


def test_an_unsendable_resource_specification_fails_its_submit_and_restores_the_sdk_fake_client(gce, service):
    with pytest.raises(TypeError, match="parsl_resource_specification") as info:
        gce.submit(add, {"num_nodes": object()}, 1)
    assert "JSON" in str(info.value.__cause__)
    assert gce.executor.resource_specification is None
    with pytest.raises(TypeError, match="user_endpoint_config"):
        gce.submit(add, {"user_endpoint_config": "not a dict"}, 1)
    assert gce.executor.user_endpoint_config is None
    assert gce.submit(add, {}, 5).result(timeout=TIMEOUT) == 5


def test_concurrent_submits_each_keep_their_own_specification_fake_client(gce, service):
    futures: dict[int, list] = {}
    start = threading.Barrier(6)

    def submitter(n):
        start.wait()
        futures[n] = [gce.submit(add, {"slot": n}, n) for _ in range(15)]

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n, futs in futures.items():
        for fut in futs:
            assert fut.result(timeout=TIMEOUT) == n
            assert service.task_specs[fut.task_id] == ({"slot": n}, None), f"task of submitter {n}"


def test_shutdown_does_not_wait_and_cancels_what_is_still_open_fake_client(sdk_executor, service, tmp_path):
    gce = GlobusComputeExecutor(sdk_executor)
    gce.start()
    release = Gate(tmp_path)
    try:
        fut = gce.submit(wait_for, {}, release.path)
        watcher = _watched(sdk_executor, 1)
        assert fut.task_id in watcher.get_open_futures()
        gce.shutdown()  # returns although the task is still running on the endpoint
        assert fut.cancelled()
        assert sdk_executor._stopped
        watcher.join(TIMEOUT)
        assert not watcher.is_alive(), "the result watcher thread must stop (it would keep Python alive)"
        with pytest.raises(RuntimeError, match="has been shut down"):
            gce.submit(add, {}, 1)
        gce.shutdown()  # a second call is harmless
    finally:
        release.set()


def test_shutdown_leaves_another_executors_futures_alone_fake_client(service, tmp_path):
    import uuid

    group = uuid.uuid4()  # two SDK executors in one task group share one result watcher
    first = GlobusComputeExecutor(service.sdk_executor(task_group_id=group), label="first")
    second = GlobusComputeExecutor(service.sdk_executor(task_group_id=group), label="second")
    first.start()
    second.start()
    release = Gate(tmp_path)
    try:
        other = second.submit(wait_for, {}, release.path)
        watcher = _watched(second.executor, 1)
        mine = first.submit(wait_for, {}, release.path)  # after the watcher exists: the SDK reuses it
        assert _watched(first.executor, 2) is watcher
        first.shutdown()
        assert mine.cancelled()
        assert not other.done()
        release.set()
        assert other.result(timeout=TIMEOUT) == "released"
    finally:
        release.set()
        second.shutdown()


def test_start_refuses_an_sdk_executor_without_an_endpoint_fake_client(service):
    sdk = service.sdk_executor(endpoint_id=None)
    try:
        with pytest.raises(ConfigurationError, match=r"no endpoint_id.*Executor\(endpoint_id="):
            GlobusComputeExecutor(sdk).start()
    finally:
        sdk.shutdown(wait=False)


def test_start_refuses_an_sdk_executor_already_shut_down_fake_client(sdk_executor):
    gce = GlobusComputeExecutor(sdk_executor)
    gce.start()
    gce.shutdown()
    with pytest.raises(ConfigurationError, match="has been shut down"):
        gce.start()
    with pytest.raises(ConfigurationError, match="has been shut down"):
        GlobusComputeExecutor(sdk_executor).start()


@pytest.mark.parametrize("bad", [object(), "endpoint-uuid", None], ids=["object", "str", "None"])
def test_executor_must_be_a_globus_compute_sdk_executor(bad):
    import typeguard

    with pytest.raises(TypeError, match=r"expected a globus_compute_sdk.Executor.*endpoint_id=") as info:
        GlobusComputeExecutor(bad)
    assert isinstance(info.value, typeguard.TypeCheckError)  # as Parsl's typeguard-checked __init__


def test_a_python_thread_pool_is_not_accepted():
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    try:
        with pytest.raises(TypeError, match="got ThreadPoolExecutor"):
            GlobusComputeExecutor(pool)
    finally:
        pool.shutdown()


def test_parameters_label_and_repr_fake_client(sdk_executor):
    gce = GlobusComputeExecutor(sdk_executor)
    assert gce.label == "GlobusComputeExecutor"
    assert gce.executor is sdk_executor
    assert gce.storage_access is None and gce.working_dir is None
    named = GlobusComputeExecutor(executor=sdk_executor, label="gc", storage_access=[], working_dir="/tmp")
    assert (named.label, named.storage_access, named.working_dir) == ("gc", [], "/tmp")
    assert repr(named).startswith("GlobusComputeExecutor(") and "label='gc'" in repr(named)
    assert isinstance(sdk_executor, Executor)
    with pytest.raises(TypeError, match="label"):
        GlobusComputeExecutor(sdk_executor, label="")
    with pytest.raises(TypeError, match="storage_access"):
        GlobusComputeExecutor(sdk_executor, storage_access="http")


def test_base_class_semantics(sdk_executor):
    from parsl.executors.base import ParslExecutor

    gce = GlobusComputeExecutor(sdk_executor)
    assert isinstance(gce, ParslExecutor)
    assert gce.bad_state_is_set is False and gce.executor_exception is None
    assert GlobusComputeExecutor.PLUGIN_NAME == "globus_compute"
