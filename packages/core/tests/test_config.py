"""Config: both eras of fields accepted, every bad value rejected naming its field."""

from __future__ import annotations

import pathlib
import warnings

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER
from parsl.dataflow.memoization import BasicMemoizer
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import RepresentationMixin


@python_app
def inc(x):
    return x + 1


def test_defaults():
    cfg = Config()
    assert len(cfg.executors) == 1
    assert isinstance(cfg.executors[0], ThreadPoolExecutor)
    assert cfg.executors[0].label == "threads"
    assert cfg.app_cache is True
    assert cfg.retries == 0
    assert cfg.run_dir == "runinfo"
    assert cfg.exit_mode == "cleanup"
    assert cfg.garbage_collect is True
    assert cfg.strategy == "simple"
    assert cfg.strategy_period == 5
    assert cfg.max_idletime == 120.0
    assert cfg.initialize_logging is True
    assert cfg.checkpoint_mode is None and cfg.checkpoint_files is None
    assert cfg.memoizer is None and cfg.dependency_resolver is None
    assert cfg.usage_tracking == 0 and cfg.project_name is None


def test_09_era_fields_accepted(load, run_dir):
    cfg = Config(
        executors=[ThreadPoolExecutor(max_threads=2, label="local_threads")],
        checkpoint_mode="task_exit",
        checkpoint_files=[],
        lazy_errors=True,
        data_management_max_threads=10,
        retries=1,
        run_dir=run_dir,
        strategy=None,
    )
    assert cfg.checkpoint_mode == "task_exit"
    assert cfg.checkpoint_files == []
    assert cfg.lazy_errors is True
    assert cfg.data_management_max_threads == 10
    assert cfg.retries == 1
    load(cfg)
    assert inc(1).result() == 2


def test_current_era_fields_accepted(load, run_dir, tmp_path):
    def autopath(task_record, kind):
        return str(tmp_path / f"{task_record['id']}.{kind}")

    memo = BasicMemoizer(checkpoint_mode="dfk_exit")
    cfg = Config(
        executors=[ThreadPoolExecutor(label="t")],
        memoizer=memo,
        exit_mode="wait",
        std_autopath=autopath,
        strategy_period=1,
        max_idletime=5,
        run_dir=run_dir,
        dependency_resolver=DEEP_DEPENDENCY_RESOLVER,
        garbage_collect=False,
        internal_tasks_max_threads=3,
        retry_handler=lambda e, t: 1.0,
        usage_tracking=0,
        project_name="demo",
        observers=[],
    )
    assert cfg.memoizer is memo
    assert cfg.exit_mode == "wait"
    assert cfg.std_autopath is autopath
    assert cfg.strategy_period == 1 and cfg.max_idletime == 5
    dfk = load(cfg)
    assert dfk.memoizer is memo
    assert inc([1][0]).result() == 2


def test_0_9_thread_pool_executor_managed():
    ex = ThreadPoolExecutor(max_threads=4, label="local_threads", managed=True)
    assert ex.managed is True
    assert ex.max_threads == 4 and ex.label == "local_threads"
    unmanaged = ThreadPoolExecutor(label="u", managed=False)
    assert unmanaged.managed is False


def test_thread_pool_executor_runs_with_managed_flag(load, run_dir):
    load(
        Config(
            executors=[ThreadPoolExecutor(max_threads=2, label="local_threads", managed=True)],
            run_dir=run_dir,
            strategy="none",
        )
    )
    assert inc(41).result() == 42


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(max_threads=0),
        dict(max_threads="4"),
        dict(max_threads=True),
        dict(label=""),
        dict(label=3),
    ],
)
def test_thread_pool_executor_bad_values(kwargs):
    field = next(iter(kwargs))
    with pytest.raises(ConfigurationError, match=field):
        ThreadPoolExecutor(**kwargs)


BAD_VALUES = [
    ("executors", "threads"),
    ("executors", 5),
    ("executors", [ThreadPoolExecutor]),
    ("executors", [object()]),
    ("executors", [ThreadPoolExecutor(label="same"), ThreadPoolExecutor(label="same")]),
    ("executors", [ThreadPoolExecutor(label="_parsl_internal")]),
    ("app_cache", "yes"),
    ("app_cache", 1),
    ("checkpoint_files", "runinfo/000/checkpoint"),
    ("checkpoint_files", 3),
    ("checkpoint_mode", "sometimes"),
    ("checkpoint_mode", True),
    ("dependency_resolver", "deep"),
    ("exit_mode", "later"),
    ("exit_mode", None),
    ("garbage_collect", "no"),
    ("internal_tasks_max_threads", 0),
    ("internal_tasks_max_threads", "10"),
    ("retries", -1),
    ("retries", 1.5),
    ("retries", "2"),
    ("retries", True),
    ("retry_handler", 5),
    ("run_dir", 7),
    ("run_dir", None),
    ("std_autopath", "task_logs"),
    ("strategy", "fastest"),
    ("strategy_period", 0),
    ("strategy_period", "5"),
    ("max_idletime", -1),
    ("max_idletime", "never"),
    ("usage_tracking", 7),
    ("usage_tracking", -1),
    ("usage_tracking", "on"),
    ("project_name", 12),
    ("initialize_logging", "yes"),
    ("memoizer", object()),
    ("lazy_errors", "true"),
    ("data_management_max_threads", "10"),
    ("observers", 5),
]


@pytest.mark.parametrize("field,value", BAD_VALUES, ids=[f"{f}={v!r}"[:40] for f, v in BAD_VALUES])
def test_bad_value_raises_configuration_error_naming_field(field, value):
    with pytest.raises(ConfigurationError) as info:
        Config(**{field: value})
    assert field in str(info.value)


def test_duplicate_label_message_names_label():
    with pytest.raises(ConfigurationError, match="'same'"):
        Config(executors=[ThreadPoolExecutor(label="same"), ThreadPoolExecutor(label="same")])


def test_checkpoint_period_needs_periodic_mode():
    with pytest.raises(ConfigurationError, match="checkpoint_period"):
        Config(checkpoint_period="00:10:00")
    with pytest.raises(ConfigurationError, match="checkpoint_period"):
        Config(checkpoint_mode="periodic", checkpoint_period="ten minutes")
    cfg = Config(checkpoint_mode="periodic", checkpoint_period="00:10:00")
    assert cfg.checkpoint_period == "00:10:00"
    assert Config(checkpoint_mode="periodic").checkpoint_period == "00:30:00"


def test_memoizer_and_checkpoint_mode_conflict():
    with pytest.raises(ConfigurationError, match="memoizer"):
        Config(memoizer=BasicMemoizer(), checkpoint_mode="task_exit")


def test_memoizer_bad_checkpoint_mode():
    with pytest.raises(ConfigurationError, match="checkpoint_mode"):
        BasicMemoizer(checkpoint_mode="whenever")


def test_lazy_errors_false_warns():
    with pytest.warns(DeprecationWarning, match="lazy_errors"):
        Config(lazy_errors=False)


def test_every_checkpoint_mode_accepted():
    for mode in (None, "task_exit", "periodic", "dfk_exit", "manual"):
        assert Config(checkpoint_mode=mode).checkpoint_mode == mode


def test_every_exit_mode_and_strategy_accepted():
    for mode in ("cleanup", "skip", "wait"):
        assert Config(exit_mode=mode).exit_mode == mode
    for strategy in (None, "none", "simple", "htex_auto_scale"):
        assert Config(strategy=strategy).strategy == strategy


def test_executors_setter_validates():
    cfg = Config()
    cfg.executors = [ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="b")]
    assert [e.label for e in cfg.executors] == ["a", "b"]
    with pytest.raises(ConfigurationError, match="executors"):
        cfg.executors = [ThreadPoolExecutor(label="x"), ThreadPoolExecutor(label="x")]


def test_executors_accepts_any_iterable():
    cfg = Config(executors=(ThreadPoolExecutor(label=f"t{i}") for i in range(2)))
    assert [e.label for e in cfg.executors] == ["t0", "t1"]


def test_config_is_representation_mixin():
    assert isinstance(Config(), RepresentationMixin)
    assert isinstance(ThreadPoolExecutor(), RepresentationMixin)


def test_repr_shows_fields():
    cfg = Config(executors=[ThreadPoolExecutor(label="r", max_threads=3)], retries=2, run_dir="somewhere")
    text = repr(cfg)
    assert text.startswith("Config(")
    assert "retries=2" in text
    assert "run_dir='somewhere'" in text
    assert "ThreadPoolExecutor(" in text and "label='r'" in text and "max_threads=3" in text
    assert "exit_mode='cleanup'" in text


def test_repr_round_trips():
    cfg = Config(
        executors=[ThreadPoolExecutor(label="r", max_threads=3)],
        retries=2,
        checkpoint_mode="periodic",
        checkpoint_period="00:01:00",
        strategy=None,
    )
    from parsl.monitoring.radios.multiprocessing import MultiprocessingQueueRadio  # the default radio

    again = eval(
        repr(cfg),
        {
            "Config": Config,
            "ThreadPoolExecutor": ThreadPoolExecutor,
            "MultiprocessingQueueRadio": MultiprocessingQueueRadio,
        },
    )
    assert repr(again) == repr(cfg)
    assert again.retries == 2 and again.executors[0].max_threads == 3


def test_repr_of_thread_pool_executor():
    text = repr(ThreadPoolExecutor(label="x", max_threads=5))
    assert text.startswith("ThreadPoolExecutor(")
    assert "label='x'" in text and "max_threads=5" in text


def test_config_kwargs_reach_the_kernel(load, run_dir):
    dfk = load(
        Config(
            executors=[ThreadPoolExecutor(label="t")],
            retries=3,
            run_dir=run_dir,
            garbage_collect=False,
            strategy="none",
        )
    )
    fut = inc(1)
    assert fut.result() == 2
    assert dfk.config.retries == 3
    assert fut.task_record["retries_left"] == 3
    assert fut.tid in dfk.tasks  # garbage_collect=False


def test_run_dir_is_relative_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir="my_runs", strategy="none")) as dfk:
        assert inc(0).result() == 1
    assert pathlib.Path(dfk.run_dir) == tmp_path / "my_runs" / "000"


def test_local_threads_config_module():
    from parsl.configs.local_threads import config

    assert isinstance(config, Config)
    assert isinstance(config.executors[0], ThreadPoolExecutor)


def test_config_not_mutated_by_load(load, run_dir):
    cfg = Config(executors=[ThreadPoolExecutor(label="t")], run_dir=run_dir, strategy="none")
    before = repr(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(cfg)
    assert inc(1).result() == 2
    assert repr(cfg) == before


def test_initialize_logging_accepts_a_log_config_object(load, run_dir):
    calls = []

    class MyLogging:
        def initialize_logging(self, *, log_dir, log_name):
            calls.append(("init", pathlib.Path(log_dir), log_name))
            return lambda: calls.append(("undo",))

    dfk = load(
        Config(
            executors=[ThreadPoolExecutor()], run_dir=run_dir, strategy="none", initialize_logging=MyLogging()
        )
    )
    assert inc(1).result() == 2
    assert calls == [("init", pathlib.Path(dfk.run_dir), "parsl")]
    dfk.cleanup()
    assert calls[-1] == ("undo",)
    assert not (pathlib.Path(dfk.run_dir) / "parsl.log").exists()
