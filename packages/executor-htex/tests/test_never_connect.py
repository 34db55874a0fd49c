"""Worker pools that never join fail the affected futures within a bounded time, with a message
naming the block's stdout/stderr files; a pool reporting another version is refused clearly.

One DataFlowKernel holds one broken executor per case, so their failures are detected in
parallel: the bound is the status poll (strategy_period, the provider's polling interval)
plus ``address_probe_timeout`` for pools that start but cannot join.
"""

from __future__ import annotations

import time

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.errors import BadStateException
from parsl.providers import LocalProvider
from parsl_executor_htex import HighThroughputExecutor, VersionMismatch
from parsl_executor_htex.curve import create_certificates
from parsl_executor_htex.executor import DEFAULT_LAUNCH_CMD

pytestmark = pytest.mark.slow

BOUND = 30  # seconds: how long a broken executor may take to fail its tasks


def hello():
    return "hello"


def broken(label, worker_init="", **kw):
    return HighThroughputExecutor(
        label=label,
        max_workers_per_node=1,
        heartbeat_period=1,
        heartbeat_threshold=5,
        provider=LocalProvider(init_blocks=1, max_blocks=1, worker_init=worker_init),
        **kw,
    )


@pytest.fixture(scope="module")
def broken_dfk(tmp_path_factory, htex_tools):
    before = htex_tools.processes()
    tmp = tmp_path_factory.mktemp("never")
    other_keys = create_certificates(str(tmp / "other-keys"))
    executors = [
        broken("exit3", worker_init="exit 3"),
        broken("crash", launch_cmd="{python} -m parsl_executor_htex.process_worker_pool --no-such-option"),
        # TEST-NET-1: nothing answers there
        broken("address", address="192.0.2.1", address_probe_timeout=2),
        # keys the interchange does not know: the pool connects but is never accepted
        broken(
            "keys", address_probe_timeout=2, launch_cmd=DEFAULT_LAUNCH_CMD.replace("{cert_dir}", other_keys)
        ),
        broken("version", worker_init="export PARSL_HTEX_REPORT_VERSION=0.0.1"),
    ]
    started = time.monotonic()
    dfk = parsl.load(
        Config(executors=executors, run_dir=str(tmp / "runinfo"), strategy="none", strategy_period=0.5)
    )
    dfk.started = started
    yield dfk
    cleanup_started = time.monotonic()
    dfk.cleanup()
    assert time.monotonic() - cleanup_started < 15
    assert not htex_tools.wait_until_gone(htex_tools.processes() - before), "HTEX processes outlived cleanup"


def failure(dfk, label):
    fut = python_app(hello, executors=[label])()
    with pytest.raises(Exception) as info:
        fut.result(timeout=BOUND)
    assert time.monotonic() - dfk.started < BOUND + 5
    return info.value


def assert_names_block_files(err):
    text = str(err)
    assert "block 0" in text
    assert ".stdout" in text and ".stderr" in text


def test_worker_init_that_exits(broken_dfk):
    err = failure(broken_dfk, "exit3")
    assert isinstance(err, BadStateException)
    assert "exited with code 3" in str(err)
    assert_names_block_files(err)


def test_pool_that_crashes_on_start(broken_dfk):
    err = failure(broken_dfk, "crash")
    assert isinstance(err, BadStateException)
    assert_names_block_files(err)
    assert "--no-such-option" in str(err)  # the pool's own stderr is quoted


def test_wrong_interchange_address(broken_dfk):
    err = failure(broken_dfk, "address")
    assert isinstance(err, BadStateException)
    assert_names_block_files(err)
    assert "cannot reach the interchange at any of 192.0.2.1" in str(err)


def test_pool_the_interchange_never_accepts(broken_dfk):
    err = failure(broken_dfk, "keys")
    assert isinstance(err, BadStateException)
    assert_names_block_files(err)
    assert "the ZeroMQ handshake with the interchange at" in str(err)
    assert "is not the interchange's" in str(err)


def test_version_mismatch_is_reported_at_registration(broken_dfk):
    err = failure(broken_dfk, "version")
    # a task submitted before the refusal fails with Parsl's BadStateException carrying its
    # text, one submitted after it with the VersionMismatch itself: which one is a race
    ex = broken_dfk.executors["version"]
    assert ex.bad_state_is_set and isinstance(ex.executor_exception, VersionMismatch)
    assert isinstance(err, (VersionMismatch, BadStateException)) and str(ex.executor_exception) in str(err)
    assert "parsl-executor-htex 0.0.1" in str(err) and "block 0" in str(err)
    assert "install parsl-executor-htex==" in str(err)
    # later submissions fail at once with the same error
    with pytest.raises(VersionMismatch):
        broken_dfk.executors["version"].submit(lambda: 1, {})
