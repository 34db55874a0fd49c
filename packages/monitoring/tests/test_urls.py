"""Database URLs checked and logged in the workflow process without SQLAlchemy there."""

from __future__ import annotations

import subprocess
import sys

import pytest

from parsl_monitoring.urls import check_url, safe_url


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:////data/runs/a@b.db",
        "postgresql://user:secret@db.example:5432/parsl",
        "postgresql+psycopg2://user:secret@[::1]:5432/parsl?sslmode=require",
        "mysql://host/db",
    ],
)
def test_database_urls_pass(url):
    check_url(url)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("monitoring.db", "no 'dialect://'"),
        ("://host/db", "no 'dialect://'"),
        ("postgresql://user:pw@host:port/db", "port 'port' is not a number"),
        (5, "a int, not a string"),
    ],
)
def test_other_text_is_refused_naming_the_form(url, reason):
    with pytest.raises(ValueError, match="is not a database URL") as info:
        check_url(url)
    assert reason in str(info.value) and "sqlite:////path/monitoring.db" in str(info.value)
    assert "pw" not in str(info.value)  # the password is not repeated in the error


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:se@cret@h/db?x=1", "postgresql://u:***@h/db?x=1"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////data/a@b.db", "sqlite:////data/a@b.db"),
        ("monitoring.db", "monitoring.db"),
    ],
)
def test_logged_urls_hide_the_password(url, shown):
    assert safe_url(url) == shown


def test_a_monitored_workflow_process_does_not_import_sqlalchemy():
    code = (
        "import sys\n"
        "from parsl.monitoring import MonitoringHub\n"
        "import parsl_monitoring.hub, parsl_monitoring.writer_process\n"
        "MonitoringHub(logging_endpoint='sqlite:////tmp/never-opened.db')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
