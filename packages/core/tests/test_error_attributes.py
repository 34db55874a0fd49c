"""App errors carry exactly the instance attributes Parsl's do, so ``vars(e)`` and pickles match.

Our extras (``BashExitFailure.reason`` from the 0.9-era AppFailure, ``BadStdStreamFile.reason``)
stay readable, as class-level properties, not instance entries.
"""

from __future__ import annotations

import pickle

import parsl
from parsl.app.errors import AppFailure, BadStdStreamFile, BashAppNoReturn, BashExitFailure


def test_bash_exit_failure_attributes():
    e = BashExitFailure("myapp", 3)
    assert vars(e) == {"app_name": "myapp", "exitcode": 3} and e.args == ("myapp", 3)
    assert str(e) == "bash_app myapp failed with unix exit code 3"
    assert isinstance(e, AppFailure) and e.reason == str(e) and e.retries is None
    again = pickle.loads(pickle.dumps(e))
    assert vars(again) == vars(e) and str(again) == str(e)


def test_bad_std_stream_file_attributes():
    e = BadStdStreamFile("no such dir")
    assert vars(e) == {"_reason": "no such dir"} and e.reason == "no such dir"
    assert str(e) == "Bad Stream File: no such dir"
    assert vars(pickle.loads(pickle.dumps(e))) == vars(e)


def test_bash_app_no_return_attributes():
    e = BashAppNoReturn("returned None")
    assert vars(e) == {"reason": "returned None"} and e.args == ("returned None",)
    assert isinstance(e, ValueError)


def test_failures_from_a_workflow_compare_equal(dfk):
    @parsl.bash_app
    def exit3():
        return "exit 3"

    @parsl.bash_app
    def no_command():
        return None

    a, b = exit3().exception(timeout=60), exit3().exception(timeout=60)
    assert type(a) is BashExitFailure and vars(a) == vars(b) == {"app_name": "exit3", "exitcode": 3}
    err = no_command().exception(timeout=60)
    assert type(err) is BashAppNoReturn and set(vars(err)) == {"reason"}


def test_bad_stream_file_from_a_workflow(dfk, tmp_path):
    @parsl.bash_app
    def echo(stdout=None):
        return "echo hi"

    blocker = tmp_path / "file"
    blocker.write_text("")
    err = echo(stdout=str(blocker / "sub" / "out.txt")).exception(timeout=60)
    assert type(err) is BadStdStreamFile and set(vars(err)) == {"_reason"}


def test_submit_exception_is_parsls():
    import warnings

    from parsl.providers.errors import SubmitException

    e = SubmitException("job-1", "sbatch said no")
    assert e.args == ("job-1", "sbatch said no")  # what the caller passed, as in Parsl
    assert vars(e) == {
        "job_name": "job-1",
        "message": "sbatch said no",
        "stdout": None,
        "stderr": None,
        "retcode": None,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert e.task_name == "job-1"
    assert [w.category for w in caught] == [DeprecationWarning]
    kw = SubmitException(job_name="j", message="m", retcode=2)
    again = pickle.loads(pickle.dumps(kw))
    assert vars(again) == vars(kw) and str(again) == str(kw)
