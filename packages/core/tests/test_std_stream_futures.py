"""``stdout=File(...)`` / ``stderr=File(...)``: the AppFuture's ``stdout``/``stderr`` is a DataFuture.

As in Parsl, whatever the File's scheme: it completes with the File once the app (and any
stage-out) is done, and with the app's exception when it fails. A path given as a string
stays a string.
"""

from __future__ import annotations

import os

import parsl
from parsl.app.errors import BashExitFailure
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File


@parsl.bash_app
def speak(code=0, stdout=None, stderr=None):
    return f"echo hello; echo goodbye >&2; exit {code}"


def test_local_file_stdout_is_a_data_future(dfk, tmp_path):
    out = File(str(tmp_path / "out.txt"))
    fut = speak(stdout=out)
    assert isinstance(fut.stdout, DataFuture)
    assert fut.stdout.result(timeout=60) is out
    assert fut.stdout.tid == fut.tid
    assert (tmp_path / "out.txt").read_text() == "hello\n"
    assert fut.result() == 0


def test_file_url_stderr_is_a_data_future(dfk, tmp_path):
    err = File("file://" + str(tmp_path / "err.txt"))
    fut = speak(stderr=err)
    assert isinstance(fut.stderr, DataFuture) and fut.stdout is None
    fut.stderr.result(timeout=60)
    assert (tmp_path / "err.txt").read_text().splitlines()[-1] == "goodbye"


def test_data_future_fails_with_the_app(dfk, tmp_path):
    fut = speak(3, stdout=File(str(tmp_path / "out.txt")))
    assert isinstance(fut.stdout.exception(timeout=60), BashExitFailure)


def test_string_paths_stay_strings(dfk, tmp_path):
    path = str(tmp_path / "plain.out")
    fut = speak(stdout=path, stderr=(str(tmp_path / "plain.err"), "w"))
    assert fut.stdout == path and fut.stderr == (str(tmp_path / "plain.err"), "w")
    fut.result(timeout=60)
    assert os.path.exists(path)


def test_staging_inhibited_still_gives_a_data_future(dfk, tmp_path):
    out = File(str(tmp_path / "inhibited.txt"))
    fut = speak(stdout=out, _parsl_staging_inhibit=True)
    assert isinstance(fut.stdout, DataFuture)
    fut.stdout.result(timeout=60)
    assert (tmp_path / "inhibited.txt").read_text() == "hello\n"
