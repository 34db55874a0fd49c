"""Globus staging against a FAKE Globus service (globus-sdk's testing helpers and ``responses``).

The real Globus service cannot be reached from tests. The fake transfer service here acts
on submission: each endpoint UUID maps to a local directory, and the fake copies the file
between them, so real workflows read and write real files. Every test that talks to the
fake service has ``fake_globus_service`` in its name.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat

import pytest

import parsl
from parsl.app.app import python_app
from parsl.data_provider.files import File
from parsl.dataflow.errors import DependencyError
from parsl.executors.threads import ThreadPoolExecutor

globus_sdk = pytest.importorskip("globus_sdk")
responses = pytest.importorskip("responses")
try:
    from globus_sdk import testing as sdk_testing
except ImportError:  # globus-sdk 3.x
    from globus_sdk import _testing as sdk_testing

from parsl_staging.errors import GlobusTransferError  # noqa: E402
from parsl_staging.globus import GlobusStaging  # noqa: E402

TRANSFER = "https://transfer.api.globus.org/v0.10"
REMOTE_EP = "037f054a-15cf-11e8-b611-0ac6873fc732"
OTHER_EP = "ddb59aef-6d04-11e5-ba46-22000b92c6ec"
LOCAL_EP = "7d2dc622-2edb-11e8-b8be-0ac6873fc732"


class FakeTransferService:
    """Endpoints are local directories; a submitted transfer copies at once (or fails)."""

    def __init__(self, roots: dict[str, str]) -> None:
        self.roots = roots
        self.submitted: list[dict] = []
        self.statuses: list[dict] = []  # get_task answers still to give, then SUCCEEDED
        self.events: list[dict] = []
        self.get_task_calls = 0

    def _path(self, ep: str, path: str) -> str:
        return os.path.join(self.roots[ep], path.lstrip("/"))

    def on_submit(self, request):
        body = json.loads(request.body)
        self.submitted.append(body)
        for item in body["DATA"]:
            src = self._path(body["source_endpoint"], item["source_path"])
            dst = self._path(body["destination_endpoint"], item["destination_path"])
            if os.path.exists(src):
                os.makedirs(os.path.dirname(dst), exist_ok=True)  # Globus makes missing directories
                shutil.copyfile(src, dst)
            else:
                self.statuses = [{"status": "FAILED", "nice_status": "FILE_NOT_FOUND"}]
                self.events = [
                    {
                        "code": "FILE_NOT_FOUND",
                        "is_error": True,
                        "time": "t1",
                        "description": "file not found",
                        "details": f"{item['source_path']}: missing",
                    }
                ]
        task_id = f"00000000-0000-0000-0000-{len(self.submitted):012d}"
        return (
            202,
            {},
            json.dumps(
                {
                    "DATA_TYPE": "transfer_result",
                    "code": "Accepted",
                    "task_id": task_id,
                    "submission_id": body.get("submission_id", "x"),
                }
            ),
        )

    def on_get_task(self, request):
        self.get_task_calls += 1
        task_id = request.url.rstrip("/").split("/")[-1]
        answer = self.statuses.pop(0) if self.statuses else {"status": "SUCCEEDED", "nice_status": None}
        return 200, {}, json.dumps({"DATA_TYPE": "task", "task_id": task_id, **answer})

    def on_events(self, request):
        return (
            200,
            {},
            json.dumps(
                {
                    "DATA_TYPE": "event_list",
                    "DATA": self.events,
                    "limit": 10,
                    "offset": 0,
                    "total": len(self.events),
                }
            ),
        )


@pytest.fixture
def fake_globus_service(tmp_path):
    roots = {REMOTE_EP: str(tmp_path / "remote"), OTHER_EP: str(tmp_path / "other"), LOCAL_EP: "/"}
    for r in roots.values():
        os.makedirs(r, exist_ok=True)
    fake = FakeTransferService(roots)
    responses.start()
    try:
        sdk_testing.load_response("transfer.get_submission_id")
        responses.add_callback(responses.POST, f"{TRANSFER}/transfer", callback=fake.on_submit)
        responses.add_callback(
            responses.GET, re.compile(rf"{TRANSFER}/task/[0-9a-f-]+$"), callback=fake.on_get_task
        )
        responses.add_callback(
            responses.GET, re.compile(rf"{TRANSFER}/task/[0-9a-f-]+/event_list.*"), callback=fake.on_events
        )
        yield fake
    finally:
        responses.stop()
        responses.reset()


def _staging(**kw):
    kw.setdefault("authorizer", globus_sdk.AccessTokenAuthorizer("fake-token"))
    kw.setdefault("poll_period", 0.01)
    return GlobusStaging(LOCAL_EP, **kw)


@python_app
def sort_strings(inputs=(), outputs=()):
    with open(inputs[0].filepath) as u:
        strs = u.readlines()
        strs.sort()
        with open(outputs[0].filepath, "w") as s:
            for e in strs:
                s.write(e)


@python_app
def read(inputs=()):
    with open(inputs[0].filepath) as f:
        return f.read()


def _docs_example(fake, tmp_path):
    (tmp_path / "remote" / "unsorted.txt").write_text("pear\napple\nfig\n")
    # the 0.9 docs' Globus example, unchanged
    unsorted_file = File("globus://037f054a-15cf-11e8-b611-0ac6873fc732/unsorted.txt")
    sorted_file = File("globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec/sorted.txt")
    f = sort_strings(inputs=[unsorted_file], outputs=[sorted_file])
    f.result()
    f.outputs[0].result(timeout=30)
    assert (tmp_path / "other" / "sorted.txt").read_text() == "apple\nfig\npear\n"
    stage_in, stage_out = fake.submitted
    assert (stage_in["source_endpoint"], stage_in["destination_endpoint"]) == (REMOTE_EP, LOCAL_EP)
    assert stage_in["DATA"][0]["source_path"] == "/unsorted.txt"
    assert (stage_out["source_endpoint"], stage_out["destination_endpoint"]) == (LOCAL_EP, OTHER_EP)
    assert stage_out["DATA"][0]["destination_path"] == "/sorted.txt"
    return stage_in, stage_out


def test_fake_globus_service_stage_in_and_out_with_the_docs_example(load, fake_globus_service, tmp_path):
    from parsl.data_provider.data_manager import default_staging

    wd = tmp_path / "work"
    load(
        executors=[
            ThreadPoolExecutor(
                label="threads", working_dir=str(wd), storage_access=default_staging + [_staging()]
            )
        ]
    )
    stage_in, _ = _docs_example(fake_globus_service, tmp_path)
    assert stage_in["DATA"][0]["destination_path"].startswith(str(wd) + "/staging/")


def test_fake_globus_service_endpoint_path_mapping(load, fake_globus_service, tmp_path):
    """endpoint_path/local_path: the endpoint sees local_path's contents under endpoint_path."""
    fake_globus_service.roots[LOCAL_EP] = str(tmp_path / "home")  # the endpoint's "/" is tmp/home
    wd = tmp_path / "home" / "job"
    load(
        executors=[
            ThreadPoolExecutor(
                label="threads",
                working_dir=str(wd),
                storage_access=[_staging(endpoint_path="/", local_path=str(tmp_path / "home"))],
            )
        ]
    )
    stage_in, stage_out = _docs_example(fake_globus_service, tmp_path)
    assert stage_in["DATA"][0]["destination_path"].startswith("/job/staging/")
    assert stage_out["DATA"][0]["source_path"].startswith("/job/staging/")


def test_fake_globus_service_waits_for_an_active_transfer_and_reports_retries(
    load, fake_globus_service, tmp_path, caplog
):
    fake = fake_globus_service
    fake.statuses = [
        {"status": "ACTIVE", "nice_status": "Queued"},
        {"status": "ACTIVE", "nice_status": "PERMISSION_DENIED"},
        {"status": "ACTIVE", "nice_status": "PERMISSION_DENIED"},
    ]
    fake.events = [
        {
            "code": "PERMISSION_DENIED",
            "is_error": True,
            "time": "t0",
            "description": "permission denied",
            "details": "retrying",
        }
    ]
    (tmp_path / "remote" / "in.txt").write_text("slowly\n")
    load(
        executors=[
            ThreadPoolExecutor(label="threads", working_dir=str(tmp_path / "w"), storage_access=[_staging()])
        ]
    )
    with caplog.at_level(logging.WARNING, logger="parsl_staging.globus"):
        assert read(inputs=[File(f"globus://{REMOTE_EP}/in.txt")]).result(timeout=30) == "slowly\n"
    assert fake.get_task_calls == 4
    retry_logs = [r for r in caplog.records if "retrying after" in r.getMessage()]
    assert len(retry_logs) == 1 and "permission denied" in retry_logs[0].getMessage()


def test_fake_globus_service_failed_transfer_fails_the_task_naming_the_url(
    load, fake_globus_service, tmp_path
):
    load(
        executors=[
            ThreadPoolExecutor(label="threads", working_dir=str(tmp_path / "w"), storage_access=[_staging()])
        ]
    )
    url = f"globus://{REMOTE_EP}/missing.txt"
    with pytest.raises(DependencyError) as info:
        read(inputs=[File(url)]).result(timeout=30)
    err = info.value.__cause__
    assert isinstance(err, GlobusTransferError)
    assert url in str(err) and "FAILED" in str(err) and "/missing.txt: missing" in str(err)


def test_fake_globus_service_rejected_submission(load, fake_globus_service, tmp_path):
    responses.replace(
        responses.POST,
        f"{TRANSFER}/transfer",
        status=403,
        json={
            "code": "PermissionDenied",
            "message": "No access to this endpoint",
            "request_id": "abc",
            "resource": "/transfer",
        },
    )
    load(
        executors=[
            ThreadPoolExecutor(label="threads", working_dir=str(tmp_path / "w"), storage_access=[_staging()])
        ]
    )
    url = f"globus://{REMOTE_EP}/x.txt"
    with pytest.raises(DependencyError) as info:
        read(inputs=[File(url)]).result(timeout=30)
    err = info.value.__cause__
    assert isinstance(err, GlobusTransferError)
    assert url in str(err) and "403" in str(err) and "No access to this endpoint" in str(err)


def test_fake_globus_service_stage_out_runs_after_the_app_and_its_failure_propagates(
    load, fake_globus_service, tmp_path
):
    load(
        executors=[
            ThreadPoolExecutor(label="threads", working_dir=str(tmp_path / "w"), storage_access=[_staging()])
        ]
    )

    @python_app
    def broken(outputs=()):
        raise RuntimeError("app broke")

    fut = broken(outputs=[File(f"globus://{OTHER_EP}/never.txt")])
    with pytest.raises(RuntimeError, match="app broke"):
        fut.result(timeout=30)
    with pytest.raises(DependencyError):
        fut.outputs[0].result(timeout=30)
    assert fake_globus_service.submitted == []  # nothing was transferred


@pytest.mark.slow
def test_fake_globus_service_with_htex(htex_config, fake_globus_service, tmp_path):
    cfg = htex_config(working_dir=str(tmp_path / "htex-work"), storage_access=[_staging()])
    with parsl.load(cfg):
        _docs_example(fake_globus_service, tmp_path)


def test_fake_globus_service_login_cli_stores_tokens(tmp_path, monkeypatch, capsys, fake_globus_service):
    from parsl_staging import globus_auth

    token_file = tmp_path / "tokens" / "globus.json"
    monkeypatch.setenv("PARSL_GLOBUS_TOKEN_FILE", str(token_file))
    sdk_testing.RegisteredResponse(
        service="auth",
        path="/v2/oauth2/token",
        method="POST",
        json={
            "access_token": "openid-at",
            "scope": "openid",
            "expires_in": 3600,
            "token_type": "Bearer",
            "resource_server": "auth.globus.org",
            "refresh_token": "openid-rt",
            "other_tokens": [
                {
                    "access_token": "transfer-at",
                    "scope": globus_auth.TRANSFER_SCOPE,
                    "expires_in": 3600,
                    "token_type": "Bearer",
                    "resource_server": "transfer.api.globus.org",
                    "refresh_token": "transfer-rt",
                }
            ],
        },
    ).add()
    monkeypatch.setattr("builtins.input", lambda prompt="": "the-auth-code")
    assert globus_auth.main([]) == 0
    out = capsys.readouterr().out
    assert "https://auth.globus.org/v2/oauth2/authorize" in out and "Authorization complete" in out
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["transfer.api.globus.org"]["refresh_token"] == "transfer-rt"
    # the code went to the token endpoint
    sent = responses.calls[-1].request
    assert "the-auth-code" in sent.body
    # a second run does nothing; --logout forgets
    assert globus_auth.main([]) == 0 and "Already authorized" in capsys.readouterr().out
    assert globus_auth.main(["--logout"]) == 0 and not token_file.exists()
    # the stored login is what staging then uses
    globus_auth.save_tokens(saved)
    authorizer = globus_auth.get_authorizer(interactive=False)
    assert isinstance(authorizer, globus_sdk.RefreshTokenAuthorizer)
    assert authorizer.get_authorization_header() == "Bearer transfer-at"


def test_fake_globus_service_staging_with_the_stored_login(load, fake_globus_service, tmp_path, monkeypatch):
    import time

    from parsl_staging import globus as globus_module
    from parsl_staging import globus_auth

    monkeypatch.setenv("PARSL_GLOBUS_TOKEN_FILE", str(tmp_path / "t.json"))
    monkeypatch.setattr(globus_module, "_shared", None)
    globus_auth.save_tokens(
        {
            "transfer.api.globus.org": {
                "access_token": "stored-at",
                "refresh_token": "stored-rt",
                "expires_at_seconds": int(time.time()) + 3600,
            }
        }
    )
    (tmp_path / "remote" / "s.txt").write_text("stored login\n")
    load(
        executors=[
            ThreadPoolExecutor(
                label="threads",
                working_dir=str(tmp_path / "w"),
                storage_access=[GlobusStaging(LOCAL_EP, poll_period=0.01)],
            )
        ]
    )
    assert read(inputs=[File(f"globus://{REMOTE_EP}/s.txt")]).result(timeout=30) == "stored login\n"
    submit = next(c for c in responses.calls if c.request.url.endswith("/transfer"))
    assert submit.request.headers["Authorization"] == "Bearer stored-at"


def test_no_stored_login_and_not_interactive(tmp_path, monkeypatch):
    from parsl_staging import globus_auth

    monkeypatch.setenv("PARSL_GLOBUS_TOKEN_FILE", str(tmp_path / "none.json"))
    with pytest.raises(RuntimeError, match="parsl-globus-auth"):
        globus_auth.get_authorizer(interactive=False)


@pytest.mark.parametrize(
    "args, match",
    [
        ((None,), "endpoint_uuid"),
        (("",), "endpoint_uuid"),
        (("my-endpoint",), "not a UUID"),
        ((LOCAL_EP, "/"), "together"),
        ((LOCAL_EP, None, "/home"), "together"),
        ((LOCAL_EP, "relative", "/home"), "absolute"),
    ],
)
def test_globus_staging_bad_arguments_raise_at_construction(args, match):
    with pytest.raises(ValueError, match=match):
        GlobusStaging(*args)


def test_globus_staging_needs_an_endpoint():
    with pytest.raises(TypeError):
        GlobusStaging()  # type: ignore[call-arg]


def test_working_dir_outside_local_path_raises_at_the_call(load, tmp_path):
    load(
        executors=[
            ThreadPoolExecutor(
                label="threads",
                working_dir=str(tmp_path / "elsewhere"),
                storage_access=[_staging(endpoint_path="/", local_path="/nonexistent")],
            )
        ]
    )
    with pytest.raises(ValueError, match="does not contain"):
        read(inputs=[File(f"globus://{REMOTE_EP}/x.txt")])


def test_missing_globus_sdk_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "globus_sdk", None)
    with pytest.raises(ImportError, match=r"pip install 'parslcore\[globus\]'"):
        GlobusStaging(LOCAL_EP)


def test_parsl_globus_auth_console_script_logout(tmp_path):
    import shutil
    import subprocess
    import sys

    token_file = tmp_path / "tokens.json"
    token_file.write_text('{"transfer.api.globus.org": {"refresh_token": "rt"}}')
    script = shutil.which("parsl-globus-auth", path=os.path.dirname(sys.executable))
    cmd = [script] if script else [sys.executable, "-m", "parsl_staging.globus_auth"]
    env = dict(os.environ, PARSL_GLOBUS_TOKEN_FILE=str(token_file))
    out = subprocess.run([*cmd, "--logout"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Removed the stored Globus tokens" in out.stdout and not token_file.exists()
    # with tokens stored it does nothing and says so (no network, no prompt)
    token_file.write_text('{"transfer.api.globus.org": {"refresh_token": "rt"}}')
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0 and "Already authorized" in out.stdout
