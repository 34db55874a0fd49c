"""The plugin manager is pluggy used as pluggy means: wrappers, tracing, late registration,
the zero-cost path when nothing observes tasks, and registries keyed on PLUGIN_NAME."""

from __future__ import annotations

import sys
import textwrap

import pluggy
import pytest

from parsl import hookimpl, join_app, python_app
from parsl.dataflow.states import States
from parsl.plugins import (
    LAUNCH_IN_PREPARE,
    LAUNCH_TOLD,
    QUIET_START,
    RENAMED_HOOKS,
    PluginConflictError,
    TaskSubmission,
    new_plugin_manager,
    plugin_name_of,
)


@python_app
def triple(x):
    return 3 * x


class StateRecorder:
    def __init__(self):
        self.states = []

    @hookimpl
    def parsl_task_state_changed(self, task, new_state):
        self.states.append((task.id, new_state))


@pytest.fixture
def registered(dfk):
    """``registered(plugin)``: register on the loaded kernel's own pluggy manager; undone after."""
    added = []

    def register(plugin):
        dfk.plugins.pm.register(plugin)
        added.append(plugin)
        return plugin

    yield register
    for plugin in added:
        if dfk.plugins.pm.is_registered(plugin):
            dfk.plugins.pm.unregister(plugin)


def test_plugin_registered_through_pm_receives_task_events_until_unregistered(dfk, registered):
    assert dfk.plugins.observes_tasks is False
    rec = registered(StateRecorder())
    assert dfk.plugins.observes_tasks is True
    fut = triple(2)
    assert fut.result() == 6
    assert [s for tid, s in rec.states if tid == fut.tid] == [
        States.pending,
        States.launched,
        States.exec_done,
    ]
    dfk.plugins.pm.unregister(rec)
    assert dfk.plugins.observes_tasks is False
    before = len(rec.states)
    assert triple(3).result() == 9
    assert len(rec.states) == before


def test_task_prepared_plugin_registered_through_pm_wraps_tasks(dfk, registered):
    class Plus100:
        @hookimpl
        def parsl_task_prepared(self, submission):
            inner = submission.func
            submission.func = lambda *a, **k: inner(*a, **k) + 100

    assert dfk.plugins.prepares_tasks is False
    registered(Plus100())
    assert dfk.plugins.prepares_tasks is True
    assert triple(1).result() == 103


def test_kwargs_are_copied_only_when_a_plugin_reads_them(dfk, registered):
    seen = []

    class Reader:
        @hookimpl
        def parsl_task_prepared(self, task, submission):
            if task.func_name == "triple":
                seen.append(submission._kwargs)  # nothing read yet: no copy made

    registered(Reader())
    assert triple(4).result() == 12
    assert seen == [None]


def test_a_plugin_adding_private_kwargs_changes_its_try_copy_not_the_task(dfk, registered):
    class Private:
        @hookimpl
        def parsl_task_prepared(self, submission):
            submission.kwargs["_private"] = 1
            inner = submission.func

            def run(*a, _private, **k):
                return inner(*a, **k)

            submission.func = run

    registered(Private())
    fut = triple(3)
    assert fut.result() == 9
    assert "_private" not in fut.task_record.kwargs


class LaunchInPrepare(StateRecorder):
    """An observer whose parsl_task_prepared stands for the launches it sees."""

    PARSL_LAUNCH_IN_PREPARE = True

    def __init__(self):
        super().__init__()
        self.prepared = []

    @hookimpl
    def parsl_task_prepared(self, task):
        self.prepared.append((task.id, task.status, task.try_time_launched is not None))


@join_app
def joined(x):
    return triple(x)


def test_an_observer_told_of_launches_in_prepare_is_not_called_for_them_again(dfk, registered):
    assert LAUNCH_IN_PREPARE == "PARSL_LAUNCH_IN_PREPARE"
    plugin = registered(LaunchInPrepare())
    assert dfk.plugins.launch_hook is None and dfk.plugins.state_hook is not None
    fut = triple(2)
    assert fut.result() == 6
    # prepared just before the launch, with its launch time set; no launched call after it
    assert plugin.prepared == [(fut.tid, States.pending, True)]
    assert [s for t, s in plugin.states if t == fut.tid] == [States.pending, States.exec_done]
    assert fut.task_record.status == States.exec_done
    # the internal executor's tasks are not prepared: their launch is still a state change
    outer = joined(3)
    assert outer.result() == 9
    assert States.launched in [s for t, s in plugin.states if t == outer.tid]


def test_a_second_observer_gets_every_launch_and_so_does_the_first(dfk, registered):
    plugin = registered(LaunchInPrepare())
    other = registered(StateRecorder())
    assert dfk.plugins.launch_hook is dfk.plugins.state_hook is not None
    fut = triple(1)
    assert fut.result() == 3
    expected = [States.pending, States.launched, States.exec_done]
    assert [s for t, s in other.states if t == fut.tid] == expected
    assert [s for t, s in plugin.states if t == fut.tid] == expected
    dfk.plugins.pm.unregister(other)
    assert dfk.plugins.launch_hook is None  # kept current on unregister too


def test_the_flag_alone_without_a_prepare_hook_changes_nothing(dfk, registered):
    class FlagOnly(StateRecorder):
        PARSL_LAUNCH_IN_PREPARE = True

    plugin = registered(FlagOnly())
    assert dfk.plugins.launch_hook is dfk.plugins.state_hook
    fut = triple(1)
    fut.result()
    assert States.launched in [s for t, s in plugin.states if t == fut.tid]


class LaunchTeller:
    """An observer that says, at each task's pending state, it took note of the launch to come."""

    def __init__(self):
        self.calls = []
        self.prepared = []

    @hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        self.calls.append((task.id, new_state, len(task.depends)))
        return LAUNCH_TOLD if new_state == States.pending else None

    @hookimpl
    def parsl_task_prepared(self, dfk, task, submission):
        self.prepared.append(task.id)


def _states(plugin, tid):
    return [s for t, s, _ in plugin.calls if t == tid]


def test_a_sole_observer_that_took_note_of_a_launch_at_pending_is_not_called_for_it(dfk, registered):
    plugin = registered(LaunchTeller())
    assert dfk.plugins.launch_told_ok is True
    first = triple(2)
    assert first.result() == 6
    # neither prepared nor told of the launch, which happened all the same
    assert _states(plugin, first.tid) == [States.pending, States.exec_done]
    assert first.tid not in plugin.prepared
    assert first.task_record.try_time_launched is not None
    # a task with dependencies is not launched in the call that made it pending: its launch is
    # prepared and told whatever the observer returned, and its pending came with them known
    second = triple(first)
    assert second.result() == 18
    assert _states(plugin, second.tid) == [States.pending, States.launched, States.exec_done]
    assert next(d for t, s, d in plugin.calls if t == second.tid) == 1
    assert second.tid in plugin.prepared


def test_launch_told_is_ignored_when_another_plugin_prepares_or_observes(dfk, registered):
    plugin = registered(LaunchTeller())

    class Preparer:
        def __init__(self):
            self.prepared = []

        @hookimpl
        def parsl_task_prepared(self, dfk, task, submission):
            self.prepared.append(task.id)

    preparer = registered(Preparer())
    assert dfk.plugins.launch_told_ok is False
    fut = triple(1)
    assert fut.result() == 3
    assert preparer.prepared == [fut.tid] and plugin.prepared == [fut.tid]
    assert _states(plugin, fut.tid) == [States.pending, States.launched, States.exec_done]
    dfk.plugins.pm.unregister(preparer)
    assert dfk.plugins.launch_told_ok is True  # kept current on unregister
    other = registered(StateRecorder())
    assert dfk.plugins.launch_told_ok is False
    fut = triple(4)
    assert fut.result() == 12
    expected = [States.pending, States.launched, States.exec_done]
    assert [s for t, s in other.states if t == fut.tid] == expected
    assert _states(plugin, fut.tid) == expected


class QuietTeller(LaunchTeller):
    """Hears of plain tasks on its executors only when they return (see QUIET_START)."""

    def __init__(self, labels):
        super().__init__()
        setattr(self, QUIET_START, set(labels))
        self.untold = []

    @hookimpl
    def parsl_task_state_changed(self, dfk, task, old_state, new_state):
        self.untold.append((task.id, new_state, task.untold))
        task.untold = False
        return super().parsl_task_state_changed(dfk, task, old_state, new_state)


@python_app
def keyed(x, scale=1):
    return x * scale


@python_app(cache=True)
def cached(x):
    return x


def test_a_quiet_start_calls_no_hook_until_the_task_returns(dfk, registered):
    plugin = registered(QuietTeller(["threads"]))
    assert dfk.plugins.quiet_start is getattr(plugin, QUIET_START)
    first = triple(2)
    assert first.result() == 6
    record = first.task_record
    # one call, at the return, from launched; the record holds the times it was not told of
    assert _states(plugin, first.tid) == [States.exec_done]
    assert (first.tid, States.exec_done, True) in plugin.untold
    assert first.tid not in plugin.prepared
    assert record.time_invoked <= record.try_time_launched <= record.try_time_returned
    # not quiet: dependencies, keyword arguments, cache=True
    dep, kw, memo = triple(first), keyed(2, scale=3), cached(4)
    assert dep.result() == 18 and kw.result() == 6 and memo.result() == 4
    assert _states(plugin, dep.tid) == [States.pending, States.launched, States.exec_done]
    for fut in (kw, memo):  # launched at once: told at pending (LAUNCH_TOLD), as before
        assert _states(plugin, fut.tid) == [States.pending, States.exec_done]
    assert all(untold is False for tid, _, untold in plugin.untold if tid in (dep.tid, kw.tid, memo.tid))


def test_a_quiet_start_needs_the_label_and_a_sole_observer(dfk, registered):
    plugin = registered(QuietTeller(["elsewhere"]))  # not this executor's label
    fut = triple(1)
    assert fut.result() == 3
    assert _states(plugin, fut.tid) == [States.pending, States.exec_done]  # LAUNCH_TOLD as before
    getattr(plugin, QUIET_START).add("threads")

    class Preparer:
        @hookimpl
        def parsl_task_prepared(self, dfk, task, submission):
            pass

    preparer = registered(Preparer())
    assert dfk.plugins.quiet_start is None  # the plugin could not take a LAUNCH_TOLD now
    fut = triple(2)
    assert fut.result() == 6
    assert _states(plugin, fut.tid) == [States.pending, States.launched, States.exec_done]
    dfk.plugins.pm.unregister(preparer)
    assert dfk.plugins.quiet_start == {"elsewhere", "threads"}
    fut = triple(3)
    assert fut.result() == 9
    assert _states(plugin, fut.tid) == [States.exec_done]


@python_app
def fails_once(path):
    import os

    if not os.path.exists(path):
        open(path, "w").close()
        raise ValueError("first try")
    return "second"


def test_a_quietly_started_task_that_is_retried_is_told_of_its_second_try(load, tmp_path):
    dfk = load(retries=1)
    plugin = QuietTeller(["threads"])
    dfk.plugins.pm.register(plugin)
    try:
        fut = fails_once(str(tmp_path / "marker"))
        assert fut.result() == "second"
    finally:
        dfk.plugins.pm.unregister(plugin)
    assert _states(plugin, fut.tid) == [
        States.fail_retryable,
        States.pending,
        States.launched,
        States.exec_done,
    ]
    assert [untold for tid, _, untold in plugin.untold if tid == fut.tid] == [True, False, False, False]


def test_old_style_hookwrapper_around_a_task_hook_fires(dfk, registered):
    seen = []

    class OldWrapper:
        @hookimpl(hookwrapper=True)
        def parsl_task_state_changed(self, new_state):
            seen.append(("before", new_state))
            outcome = yield
            seen.append(("after", new_state, outcome.exception))

    registered(OldWrapper())
    rec = registered(StateRecorder())  # a plain implementation inside the wrapper
    triple(1).result()
    assert ("before", States.exec_done) in seen and ("after", States.exec_done, None) in seen
    assert rec.states[-1][1] == States.exec_done


def test_new_style_wrapper_sees_the_submission_after_inner_implementations(dfk, registered):
    seen = []

    class Inner:
        @hookimpl
        def parsl_task_prepared(self, submission):
            submission.kwargs["_inner"] = True
            inner = submission.func

            def run(*a, _inner, **k):
                return inner(*a, **k)

            submission.func = run

    class Outer:
        @hookimpl(wrapper=True)
        def parsl_task_prepared(self, submission):
            result = yield
            seen.append(sorted(submission.kwargs))
            return result

    registered(Inner())
    registered(Outer())
    assert triple(2).result() == 6
    assert seen == [["_inner"]]


def test_add_hookcall_monitoring_and_tracing_see_the_task_hooks(dfk, registered):
    calls = []
    undo = dfk.plugins.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append((name, sorted(kwargs))),
        lambda outcome, name, impls, kwargs: None,
    )
    traced = []
    dfk.plugins.pm.trace.root.setwriter(traced.append)
    undo_trace = dfk.plugins.pm.enable_tracing()
    try:
        registered(StateRecorder())
        triple(1).result()
    finally:
        undo_trace()
        undo()
    assert ("parsl_task_state_changed", ["dfk", "new_state", "old_state", "task"]) in calls
    assert any("parsl_task_state_changed" in line for line in traced)


def test_no_task_hook_implementation_means_pluggy_is_never_called_per_task(dfk):
    calls = []
    undo = dfk.plugins.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda *a: None
    )
    try:
        assert [triple(i) for i in range(5)][-1].result() == 12
        dfk.wait_for_current_tasks()
    finally:
        undo()
    assert dfk.plugins.observes_tasks is False and dfk.plugins.prepares_tasks is False
    assert calls == []


def test_a_raising_implementation_does_not_stop_the_next_one(dfk, registered, caplog):
    class Raises:
        @hookimpl
        def parsl_task_state_changed(self, task):
            raise RuntimeError("observer bug")

    rec = registered(StateRecorder())
    registered(Raises())  # called first: pluggy calls the last registered first
    with caplog.at_level("ERROR", logger="parsl.plugins"):
        assert triple(1).result() == 3
    assert rec.states and rec.states[-1][1] == States.exec_done
    assert any("parsl_task_state_changed" in r.getMessage() for r in caplog.records)


def test_a_lone_observer_is_called_straight_and_what_it_raises_is_logged_with_its_name(
    dfk, registered, caplog
):
    class Lone:
        def __init__(self):
            self.seen = []

        @hookimpl
        def parsl_task_state_changed(self, dfk, task, old_state, new_state):
            self.seen.append((old_state, new_state))
            if new_state == States.launched:
                raise RuntimeError("lone observer bug")

    lone = registered(Lone())
    # the kernel calls the implementation itself: no facade, no plan loop in between
    assert dfk.plugins.state_hook == lone.parsl_task_state_changed
    with caplog.at_level("ERROR", logger="parsl.plugins"):
        assert triple(4).result() == 12
    assert lone.seen[-3:] == [
        (States.unsched, States.pending),
        (States.pending, States.launched),
        (States.launched, States.exec_done),
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("raised in parsl_task_state_changed" in m for m in errors), errors
    assert all(
        r.exc_info and "lone observer bug" in str(r.exc_info[1])
        for r in caplog.records
        if r.levelname == "ERROR"
    )
    # a second observer: both are called, through the facade, in pluggy's order
    rec = registered(StateRecorder())
    assert dfk.plugins.state_hook == dfk.plugins.task_state_changed
    fut = triple(5)
    assert fut.result() == 15
    assert [s for tid, s in rec.states if tid == fut.tid] == [
        States.pending,
        States.launched,
        States.exec_done,
    ]
    assert lone.seen[-1] == (States.launched, States.exec_done)
    dfk.plugins.pm.unregister(rec)
    dfk.plugins.pm.unregister(lone)
    assert dfk.plugins.state_hook is None


def test_a_lone_preparer_is_called_straight_and_a_try_it_broke_still_runs(dfk, registered, caplog):
    class Lone:
        def __init__(self):
            self.kwargs = []

        @hookimpl
        def parsl_task_prepared(self, dfk, task, submission):
            self.kwargs.append(dict(submission.kwargs))
            inner = submission.func
            if task.args == (6,):
                raise RuntimeError("lone preparer bug")
            if task.args == (7,):
                submission.kwargs["_lone_extra"] = 1

                def strip(*args, _lone_extra, **kwargs):
                    return inner(*args, **kwargs) + _lone_extra

                submission.func = strip
            else:
                submission.func = lambda *a, **k: inner(*a, **k) * 10

    lone = registered(Lone())
    assert dfk.plugins.prepare_hook == lone.parsl_task_prepared
    with caplog.at_level("ERROR", logger="parsl.plugins"):
        assert triple(2).result() == 60  # wrapped
        assert triple(6).result() == 18  # the implementation raised first: the bare function ran
        assert triple(7).result() == 22  # a key added for its wrapper reaches the wrapper only
    assert lone.kwargs == [{}, {}, {}]  # each try's own copy: the key added to one is not in the next
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "raised in parsl_task_prepared" in errors[0].getMessage()
    assert "lone preparer bug" in str(errors[0].exc_info[1])
    rec = registered(StateRecorder())  # an observer only: the preparer is still alone
    assert dfk.plugins.prepare_hook == lone.parsl_task_prepared
    dfk.plugins.pm.unregister(rec)
    dfk.plugins.pm.unregister(lone)
    assert dfk.plugins.prepare_hook is None


def test_executor_reports_reach_every_implementation_even_past_one_that_raises(dfk, registered, caplog):
    class Got:
        def __init__(self):
            self.got = []

        @hookimpl
        def parsl_executor_reported(self, messages, executor):  # its own argument order
            self.got.append((executor, messages))

    class Broken:
        @hookimpl
        def parsl_executor_reported(self, dfk, executor, messages):
            raise RuntimeError("reporter bug")

    got = registered(Got())
    registered(Broken())  # called first (pluggy: last registered first), and raises
    with caplog.at_level("ERROR", logger="parsl.plugins"):
        dfk.plugins.executor_reported(dfk, "htex", [{"type": "block"}])
    assert got.got == [("htex", [{"type": "block"}])]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "raised in parsl_executor_reported" in errors[0]

    class Wrapper:  # a wrapper: every call goes through pluggy, which still calls both
        @hookimpl(wrapper=True)
        def parsl_executor_reported(self, executor):
            return (yield)

    registered(Wrapper())
    assert dfk.plugins._report_plan is None
    dfk.plugins.executor_reported(dfk, "htex", [{"type": "node"}])
    assert got.got[-1] == ("htex", [{"type": "node"}])


def test_a_raising_wrapper_is_logged_not_raised(dfk, registered, caplog):
    class BadWrapper:
        @hookimpl(wrapper=True)
        def parsl_task_state_changed(self):
            yield
            raise RuntimeError("wrapper bug")

    registered(BadWrapper())
    with caplog.at_level("ERROR", logger="parsl.plugins"):
        assert triple(1).result() == 3
    assert any("around parsl_task_state_changed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("old", sorted(RENAMED_HOOKS))
def test_an_implementation_of_a_renamed_hook_is_refused_with_the_new_name(old):
    plugin = type("Old", (), {old: hookimpl(lambda self, dfk: None)})()
    with pytest.raises(pluggy.PluginValidationError, match=RENAMED_HOOKS[old].split("(")[0]):
        new_plugin_manager(observers=[plugin])


def test_facade_register_of_a_misspelled_hook_leaves_nothing_registered():
    pm = new_plugin_manager()

    class Typo:
        @hookimpl
        def parsl_task_state_chaged(self, task):
            pass

    typo = Typo()
    with pytest.raises(pluggy.PluginValidationError):
        pm.register(typo)
    assert not pm.pm.is_registered(typo)


def test_task_submission_holds_func_and_kwargs():
    source = {"a": 1}
    sub = TaskSubmission(len, source)
    assert sub.func is len and sub.kwargs == {"a": 1}
    sub.kwargs["b"] = 2
    assert source == {"a": 1}  # the try's own copy
    assert "['a', 'b']" in repr(sub)


# -- registries keyed on PLUGIN_NAME ---------------------------------------------------------


def _write_module(site, name, body):
    (site / f"{name}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def two_modules(tmp_path, monkeypatch):
    """Two real modules, each with an executor class; imported fresh, removed afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    body = """
        from parsl.executors.base import ParslExecutor
        from parsl import hookimpl

        class {cls}(ParslExecutor):
            {attr}
            def start(self): pass
            def submit(self, func, resource_specification, *args, **kwargs): pass
            def shutdown(self): pass

        @hookimpl
        def parsl_register_executors():
            return [{cls}]
    """

    def make(name, cls, plugin_name=None):
        attr = f"PLUGIN_NAME = {plugin_name!r}" if plugin_name else "pass"
        _write_module(site, name, body.format(cls=cls, attr=attr))
        monkeypatch.delitem(sys.modules, name, raising=False)
        return __import__(name)

    yield make


def test_two_executor_classes_under_one_plugin_name_is_an_error_naming_both(two_modules):
    a = two_modules("vendor_a_plugin", "FastExecutor", "fast")
    b = two_modules("vendor_b_plugin", "QuickExecutor", "fast")
    pm = new_plugin_manager(observers=[a, b])
    with pytest.raises(PluginConflictError) as info:
        pm.executors()
    message = str(info.value)
    assert "'fast'" in message
    assert "vendor_a_plugin.FastExecutor" in message and "vendor_b_plugin.QuickExecutor" in message
    assert "different PLUGIN_NAME" in message and "PARSL_DISABLE_PLUGINS" in message


def test_two_classes_with_one_class_name_cannot_be_looked_up_by_it(two_modules):
    a = two_modules("vendor_c_plugin", "SameExecutor", "same_c")
    b = two_modules("vendor_d_plugin", "SameExecutor", "same_d")
    pm = new_plugin_manager(observers=[a, b])
    assert pm.executors()["same_c"] is a.SameExecutor and pm.executors()["same_d"] is b.SameExecutor
    with pytest.raises(PluginConflictError, match=r"vendor_c_plugin\.SameExecutor and vendor_d_plugin"):
        pm.find_class("executors", "SameExecutor")


def test_class_without_plugin_name_is_keyed_by_its_class_name(two_modules):
    a = two_modules("vendor_e_plugin", "PlainExecutor")
    pm = new_plugin_manager(observers=[a])
    assert pm.executors()["PlainExecutor"] is a.PlainExecutor


def test_a_subclass_does_not_inherit_its_parents_key():
    from parsl.executors.threads import ThreadPoolExecutor

    class MyThreads(ThreadPoolExecutor):
        pass

    assert plugin_name_of(ThreadPoolExecutor) == "threads"
    assert plugin_name_of(MyThreads) == "MyThreads"


def test_same_class_from_two_plugins_is_not_a_conflict():
    from parsl.executors.threads import ThreadPoolExecutor

    class Again:
        @hookimpl
        def parsl_register_executors(self):
            return [ThreadPoolExecutor]

    assert new_plugin_manager(observers=[Again()]).executors()["threads"] is ThreadPoolExecutor


def test_registering_a_non_executor_is_an_error_naming_it():
    class Wrong:
        @hookimpl
        def parsl_register_executors(self):
            return [dict]

    with pytest.raises(PluginConflictError, match=r"not a subclass of parsl\.executors\.base\.ParslExecutor"):
        new_plugin_manager(observers=[Wrong()]).executors()


def test_plain_implementations_get_pluggys_call_order_and_their_own_argument_order(dfk, registered):
    calls = []

    class Reordered:
        @hookimpl
        def parsl_task_state_changed(self, new_state, task, dfk, old_state):
            calls.append(("reordered", task.id, old_state, new_state, dfk))

    class Full:
        @hookimpl
        def parsl_task_state_changed(self, dfk, task, old_state, new_state):
            calls.append(("full", task.id, old_state, new_state, dfk))

    class Early:
        @hookimpl(tryfirst=True)
        def parsl_task_state_changed(self, task):
            calls.append(("early", task.id))

    registered(Early())
    registered(Reordered())
    registered(Full())
    assert dfk.plugins._state_plan is not None  # plain implementations: called from the plan
    fut = triple(1)
    fut.result()
    dfk.wait_for_current_tasks()
    mine = [c for c in calls if c[1] == fut.tid]
    # pluggy's order: tryfirst first, then the last registered first; every state, every plugin
    first_change = mine[:3]
    assert [c[0] for c in first_change] == ["early", "full", "reordered"]
    assert first_change[1][2:] == first_change[2][2:] == (States.unsched, States.pending, dfk)
    assert [c[3] for c in mine if c[0] == "full"] == [c[3] for c in mine if c[0] == "reordered"]


def test_a_monitor_sends_task_hooks_through_pluggy_until_undone(dfk, registered):
    registered(StateRecorder())
    assert dfk.plugins._state_plan is not None
    seen = []
    undo = dfk.plugins.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *a: None
    )
    assert dfk.plugins._state_plan is None
    triple(2).result()
    undo()
    assert "parsl_task_state_changed" in seen
    assert dfk.plugins._state_plan is not None
    count = len(seen)
    triple(3).result()
    dfk.wait_for_current_tasks()
    assert len(seen) == count, "an undone monitor sees nothing more"
