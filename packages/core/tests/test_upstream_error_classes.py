"""Error classes that scripts and tests written for Parsl catch, build and compare: the names,
bases, constructor arguments, attributes and messages are Parsl's (parsl==2026.10.26)."""

from __future__ import annotations

import pickle

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.errors import NoDataFlowKernelError, ParslError
from parsl.executors import ThreadPoolExecutor
from parsl.executors import errors as ex


class _Executor:
    label = "exlabel"


def test_executor_error_hierarchy_is_parsls():
    for cls in (
        ex.BadStateException,
        ex.UnsupportedFeatureError,
        ex.InvalidResourceSpecification,
        ex.ScalingFailed,
    ):
        assert issubclass(cls, ex.ExecutorError), cls
    assert issubclass(ex.ExecutorError, ParslError)
    assert issubclass(ex.BadMessage, ParslError) and not issubclass(ex.BadMessage, ex.ExecutorError)


def test_unsupported_feature_error_is_also_the_parsl_errors_one():
    import parsl.errors

    err = ex.UnsupportedFeatureError("x", "ThreadPoolExecutor", None)
    assert isinstance(err, parsl.errors.UnsupportedFeatureError)  # parslcore's older spelling


@pytest.mark.parametrize(
    "make, text, attrs",
    [
        (lambda e: ex.ExecutorError(e, "why"), "Executor exlabel failed due to: why", {"reason": "why"}),
        (
            lambda e: ex.BadStateException(e, ValueError("boom")),
            "Executor exlabel failed due to: boom",
            {"reason": "boom"},
        ),
        (
            lambda e: ex.ScalingFailed(e, "no quota"),
            "Executor exlabel failed to scale due to: no quota",
            {"reason": "no quota"},
        ),
        (
            lambda e: ex.UnsupportedFeatureError("f", "A", None),
            "The f feature is unsupported in A.",
            {"feature": "f", "current_executor": "A", "target_executor": None},
        ),
        (
            lambda e: ex.UnsupportedFeatureError("f", "A", "B"),
            "The f feature is unsupported in A." + " " * 21 + "Please checkout B for this feature",
            {"feature": "f", "current_executor": "A", "target_executor": "B"},
        ),
        (
            lambda e: ex.InvalidResourceSpecification({"cores"}, "no."),
            "Invalid Resource Specification Supplied: {'cores'}. no.",
            {"invalid_keys": {"cores"}, "message": "no."},
        ),
        (
            lambda e: ex.InvalidResourceSpecification({"cores"}),
            "Invalid Resource Specification Supplied: {'cores'}. ",
            {"invalid_keys": {"cores"}, "message": ""},
        ),
        (
            lambda e: ex.BadMessage("garbled"),
            "Received an unsupported message. Reason:garbled",
            {"reason": "garbled"},
        ),
    ],
)
def test_executor_error_messages_and_attributes(make, text, attrs):
    executor = _Executor()
    err = make(executor)
    assert str(err) == text
    own = {k: v for k, v in vars(err).items() if k != "executor"}
    assert own == attrs
    if "executor" in vars(err):
        assert err.executor is executor
    assert not hasattr(ex.InvalidResourceSpecification({"k"}), "executor")  # as in Parsl


def test_executor_errors_keep_the_callers_args_and_pickle():
    assert ex.InvalidResourceSpecification({"a"}).args == ({"a"},)
    assert ex.UnsupportedFeatureError("f", "A", None).args == ("f", "A", None)
    again = pickle.loads(pickle.dumps(ex.InvalidResourceSpecification({"a"}, "m")))
    assert (type(again), again.invalid_keys, again.message) == (ex.InvalidResourceSpecification, {"a"}, "m")


@python_app
def double(x, parsl_resource_specification={}):  # noqa: B006 - the app signature Parsl users write
    return 2 * x


def test_thread_pool_rejects_a_resource_specification_as_parsl_does(tmp_path):
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path))):
        assert double(2, parsl_resource_specification={}).result() == 4  # empty: accepted
        err = double(2, parsl_resource_specification={"cores": 1, "memory": 1}).exception()
        assert type(err) is ex.InvalidResourceSpecification
        assert err.invalid_keys == {"cores", "memory"}
        assert "not supported in ThreadPool Executor" in str(err)
        assert "HighThroughputExecutor" in str(err)  # says the fix


def test_thread_pool_submit_called_directly_raises_at_submit():
    executor = ThreadPoolExecutor()
    executor.start()
    try:
        with pytest.raises(ex.InvalidResourceSpecification) as info:
            executor.submit(lambda: 1, {"cpus": 1})
        assert info.value.invalid_keys == {"cpus"}
        assert executor.submit(lambda: 1, {}).result() == 1
    finally:
        executor.shutdown()


def test_submit_after_cleanup_is_parsls_no_dfk_error(tmp_path):
    dfk = parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path)))
    dfk.cleanup()
    with pytest.raises(NoDataFlowKernelError) as info:
        dfk.submit(lambda: None, ())
    assert info.value.args == ("Cannot submit to a DFK that has been cleaned up",)
    assert not isinstance(info.value, ValueError)


def test_serialization_errors_are_parsls():
    from parsl.serialize.errors import DeserializationError, DeserializerPluginError, SerializationError

    err = SerializationError("f")
    assert err.fname == "f"
    url = "https://parsl.readthedocs.io/en/latest/faq.html#addressing-serializationerror"
    assert err.troubleshooting == url
    assert str(err) == f"Failed to serialize objects for an invocation of function f. Refer {url}"
    assert str(DeserializationError("r")) == "Failed to deserialize objects. Reason: r"
    plugin = DeserializerPluginError(b"mod Cls")
    assert isinstance(plugin, ParslError) and plugin.header == b"mod Cls"
    assert str(plugin) == "Failed to load deserializer plugin for header b'mod Cls'"
    # still importable from their 0.9-era home
    assert ex.SerializationError is SerializationError and ex.DeserializationError is DeserializationError


def test_monitoring_errors_exist_with_parsls_messages():
    from parsl.monitoring.errors import MonitoringRouterStartError, RadioRequiredError

    assert str(MonitoringRouterStartError()) == "Monitoring router failed to start"
    assert str(RadioRequiredError()) == "A radio must be configured for remote task monitoring"
    assert issubclass(MonitoringRouterStartError, ParslError) and issubclass(RadioRequiredError, ParslError)
