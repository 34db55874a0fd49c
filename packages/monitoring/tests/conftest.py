"""Shared fixtures of the monitoring tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_POSTGRES_URL = "postgresql://parsl:parsl@127.0.0.1:5432/parsl_monitoring"


def _reachable(url: str) -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as c:
            c.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL (started by .ci/setup.d/35-postgres.sh; started here if possible)."""
    from parsl_monitoring.db import with_installed_driver

    url = os.environ.get("PARSL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    # the driver named, as the hub and the dashboard do: SQLAlchemy 2.0 (Python 3.10) reads a
    # driverless postgresql:// as psycopg2, which the test environments do not install
    url = with_installed_driver(url).render_as_string(hide_password=False)
    if not _reachable(url) and os.geteuid() == 0:
        subprocess.run(
            ["bash", str(ROOT / ".ci" / "infra" / "postgres-up.sh")], capture_output=True, timeout=300
        )
    if not _reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {url}; .ci/setup.d/35-postgres.sh should start it")
        pytest.skip(f"PostgreSQL is not reachable at {url} (run .ci/infra/postgres-up.sh)")
    return url
