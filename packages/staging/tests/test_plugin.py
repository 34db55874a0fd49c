"""The plugin: registration, default_staging, Parsl's import paths, and errors on bad input."""

from __future__ import annotations

import pickle
import re

import pytest

from parsl.app.app import python_app
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor


def test_parsl_import_paths():
    import parsl_staging
    from parsl.data_provider.ftp import FTPInTaskStaging, FTPSeparateTaskStaging
    from parsl.data_provider.globus import Globus, GlobusStaging, cli_run, get_globus
    from parsl.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
    from parsl.data_provider.rsync import RSyncStaging

    assert HTTPSeparateTaskStaging is parsl_staging.HTTPSeparateTaskStaging
    assert HTTPInTaskStaging.__module__ == FTPInTaskStaging.__module__.replace("ftp", "http")
    assert FTPSeparateTaskStaging is parsl_staging.FTPSeparateTaskStaging
    assert RSyncStaging is parsl_staging.RSyncStaging
    assert GlobusStaging is parsl_staging.GlobusStaging
    assert callable(get_globus) and callable(cli_run) and isinstance(Globus, type)


def test_default_staging_includes_http_and_ftp_through_the_hook():
    from parsl.data_provider.data_manager import default_staging
    from parsl.plugins import default_plugin_manager
    from parsl_staging.ftp import FTPSeparateTaskStaging
    from parsl_staging.http import HTTPSeparateTaskStaging

    kinds = [type(p) for p in default_staging]
    assert HTTPSeparateTaskStaging in kinds and FTPSeparateTaskStaging in kinds
    hooked = [type(p) for p in default_plugin_manager().default_staging()]
    assert kinds == hooked
    # the Parsl idiom for adding a provider keeps the defaults
    from parsl_staging.rsync import RSyncStaging

    extended = default_staging + [RSyncStaging("host")]
    assert [type(p) for p in extended[:-1]] == kinds


def test_parsl_register_staging_providers_lists_every_provider():
    from parsl.plugins import default_plugin_manager

    table = default_plugin_manager().staging_providers()
    class_names = {c.__name__ for c in table.values()}
    for n in (
        "HTTPSeparateTaskStaging",
        "HTTPInTaskStaging",
        "FTPSeparateTaskStaging",
        "FTPInTaskStaging",
        "RSyncStaging",
        "GlobusStaging",
    ):
        assert n in class_names
    # keyed on PLUGIN_NAME
    assert {"http", "http_in_task", "ftp", "ftp_in_task", "rsync", "globus"} <= set(table)
    assert all(key == table[key].PLUGIN_NAME for key in ("http", "ftp", "rsync", "globus"))


def test_providers_pickle_and_repr():
    from parsl_staging.ftp import FTPInTaskStaging
    from parsl_staging.http import HTTPSeparateTaskStaging
    from parsl_staging.rsync import RSyncStaging

    for p in (
        HTTPSeparateTaskStaging(verify="/ca.pem", timeout=5),
        FTPInTaskStaging(timeout=3),
        RSyncStaging("me@host", ssh_command=["ssh", "-p", "2222"]),
    ):
        again = pickle.loads(pickle.dumps(p))
        assert repr(again) == repr(p)
    assert "ssh -p 2222" in repr(RSyncStaging("me@host", ssh_command=["ssh", "-p", "2222"]))


def test_unknown_scheme_raises_at_the_call(load):
    from parsl.data_provider.data_manager import NoStagingProviderError

    load()

    @python_app
    def use(inputs=()):
        return 1

    with pytest.raises(NoStagingProviderError, match=re.escape("s3://bucket/key.txt")):
        use(inputs=[File("s3://bucket/key.txt")])


def test_globus_file_without_a_globus_provider_raises_at_the_call(load):
    from parsl.data_provider.data_manager import NoStagingProviderError

    load()

    @python_app
    def use(inputs=()):
        return 1

    with pytest.raises(NoStagingProviderError, match="globus"):
        use(inputs=[File("globus://037f054a-15cf-11e8-b611-0ac6873fc732/unsorted.txt")])


def test_url_naming_no_file_raises_at_the_call(load):
    load()

    @python_app
    def use(inputs=()):
        return 1

    with pytest.raises(ValueError, match="names no file"):
        use(inputs=[File("http://127.0.0.1:1/some/dir/")])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(verify=3), "verify="),
        (dict(timeout=0), "timeout="),
        (dict(timeout="10"), "timeout="),
    ],
)
def test_http_bad_options(kwargs, match):
    from parsl_staging.http import HTTPInTaskStaging

    with pytest.raises((TypeError, ValueError), match=match):
        HTTPInTaskStaging(**kwargs)


@pytest.mark.parametrize("hostname", ["", "host:22", "host/path", "-oProxyCommand=x", "a b", None, "u@"])
def test_rsync_bad_hostname(hostname):
    from parsl_staging.rsync import RSyncStaging

    with pytest.raises(ValueError, match="RSyncStaging"):
        RSyncStaging(hostname)


def test_rsync_accepts_user_at_host_forms():
    from parsl_staging.rsync import RSyncStaging

    for h in ("benc@1.2.3.4", "testhost", "me@[::1]", "login.example.org"):
        assert RSyncStaging(h).hostname == h


def test_rsync_replaces_local_file_staging_only_when_listed():
    from parsl_staging.rsync import RSyncStaging

    r = RSyncStaging("h")
    assert r.can_stage_in(File("/x")) and r.can_stage_out(File("file:///x"))
    assert not r.can_stage_in(File("http://h/x"))


def test_staging_errors_pickle_with_their_fields():
    from parsl_staging.errors import FTPStagingError, GlobusTransferError, HTTPStagingError

    e = pickle.loads(pickle.dumps(HTTPStagingError("http://h/x", "Not Found", status=404)))
    assert (e.url, e.reason, e.status) == ("http://h/x", "Not Found", 404)
    assert str(e) == "HTTP download of http://h/x failed with status 404: Not Found"
    f = pickle.loads(pickle.dumps(FTPStagingError("ftp://u:pw@h/x", "550 no")))
    assert "pw" not in str(f) and "u:***@h" in str(f)
    g = pickle.loads(pickle.dumps(GlobusTransferError("globus://e/p", "ended FAILED")))
    assert "globus://e/p" in str(g)


def test_default_staging_applies_to_an_executor_without_storage_access(load, tmp_path):
    from parsl_staging.http import HTTPSeparateTaskStaging

    dfk = load(executors=[ThreadPoolExecutor(label="threads")])
    providers = dfk.data_manager._providers("threads")
    assert any(isinstance(p, HTTPSeparateTaskStaging) for p in providers)
