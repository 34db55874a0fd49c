"""Opening a monitoring database read-only, and the SQL helpers the dashboard's queries share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Float, Integer, create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from parsl_monitoring.db import with_installed_driver

__all__ = ["DEFAULT_DB_URL", "DatabaseNotFound", "display_url", "epoch", "ifloor", "open_database"]

DEFAULT_DB_URL = "sqlite:///./runinfo/monitoring.db"
REQUIRED_TABLES = ("workflow", "task", "status")


class DatabaseNotFound(Exception):
    """The URL names no monitoring database (missing file, or none of Parsl's tables)."""


def normalize_url(db: str) -> URL:
    """A SQLAlchemy URL from a URL or a plain path to a SQLite file."""
    if "://" not in db:
        return URL.create("sqlite", database=str(Path(db).expanduser().resolve()))
    return make_url(db)


def _sqlite_read_only(url: URL) -> tuple[URL, Path | None]:
    """The read-only (``mode=ro``) form of a SQLite file URL, and the file's path."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return url, None
    path = Path(database).expanduser().resolve()
    ro = url.set(database=f"file:{path}", query={**url.query, "mode": "ro", "uri": "true"})
    return ro, path


def open_database(db: str | URL | Engine) -> Engine:
    """An engine on the monitoring database ``db``, opened read-only where the driver allows.

    Raises DatabaseNotFound, naming the URL and what to do, when a SQLite file does not exist or
    the database holds none of Parsl's monitoring tables.
    """
    if isinstance(db, Engine):
        engine = db
    else:
        url = normalize_url(db) if isinstance(db, str) else db
        kwargs: dict = {}
        if url.get_backend_name() == "sqlite":
            url, path = _sqlite_read_only(url)
            if path is not None and not path.is_file():
                raise DatabaseNotFound(
                    f"no monitoring database at {path}: run a workflow with "
                    f"Config(monitoring=MonitoringHub(...)) first, or pass the database URL "
                    f"(parsl-visualize sqlite:////path/to/monitoring.db)"
                )
        elif url.get_backend_name() == "postgresql":
            kwargs["execution_options"] = {"postgresql_readonly": True}
        engine = create_engine(with_installed_driver(url), **kwargs)
    try:
        tables = set(inspect(engine).get_table_names())
    except Exception as e:
        raise DatabaseNotFound(f"cannot open {display_url(engine)}: {e}") from e
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        engine.dispose()
        raise DatabaseNotFound(
            f"{display_url(engine)} is not a Parsl monitoring database (no table {', '.join(missing)}); "
            f"is this the file the MonitoringHub wrote (logging_endpoint)?"
        )
    return engine


def display_url(engine: Engine) -> str:
    """The engine's URL as the user wrote it: password hidden, read-only SQLite options removed."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and (url.database or "").startswith("file:"):
        url = url.set(
            database=url.database[5:], query={k: v for k, v in url.query.items() if k not in ("mode", "uri")}
        )
    return url.render_as_string(hide_password=True)


# ---------------------------------------------------------------------------------------------
# Portable SQL: seconds since the epoch of a DateTime column, and floor to an integer.


class epoch(FunctionElement):
    """Seconds since 1970 of a naive DateTime, as a float (SQLite stores text, PostgreSQL timestamps)."""

    type = Float()
    name = "epoch"
    inherit_cache = True


class ifloor(FunctionElement):
    """The integer floor of a non-negative number."""

    type = Integer()
    name = "ifloor"
    inherit_cache = True


# Each function's SQL per dialect name ("" for any other dialect); ``{x}`` is its argument.
_PORTABLE_SQL: dict[type[FunctionElement], dict[str, str]] = {
    epoch: {
        "": "EXTRACT(EPOCH FROM {x})",
        # Whole seconds from strftime, microseconds from the text ("2026-11-02 09:30:00.350000"):
        # exact, where julianday() arithmetic is off by up to ~20 microseconds.
        "sqlite": "(CAST(strftime('%s', {x}) AS REAL) + COALESCE(CAST(substr({x}, 20) AS REAL), 0.0))",
        "mysql": "UNIX_TIMESTAMP({x})",
    },
    ifloor: {
        "": "CAST(FLOOR({x}) AS INTEGER)",
        # CAST truncates toward zero, which is the floor for the non-negative values used here.
        "sqlite": "CAST({x} AS INTEGER)",
    },
}


@compiles(epoch)
@compiles(ifloor)
def _portable(element: FunctionElement, compiler: Any, **kw: Any) -> str:
    by_dialect = _PORTABLE_SQL[type(element)]
    sql = by_dialect.get(compiler.dialect.name, by_dialect[""])
    return sql.format(x=compiler.process(element.clauses, **kw))
