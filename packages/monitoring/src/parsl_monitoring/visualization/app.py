"""The Flask application: ``create_app(db)`` serves the dashboard for one monitoring database."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, g, render_template, request, url_for
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from werkzeug.exceptions import HTTPException

from .database import display_url, open_database
from .formatting import fmt_bytes, fmt_duration, fmt_number, fmt_time
from .page_cache import PageCache
from .states import state_color

__all__ = ["create_app"]

HERE = Path(__file__).parent


def page_url(arg: str, value: object) -> str:
    """The current page's URL with one query argument set (for pagers and "show all" links)."""
    args = request.args.to_dict()
    args[arg] = str(value)
    return url_for(request.endpoint or "viz.index", **(request.view_args or {}), **args)


def create_app(db: str | URL | Engine, *, refresh_seconds: int = 10, cache_bytes: int = 64 << 20) -> Flask:
    """A Flask app serving the dashboard for the monitoring database ``db``.

    ``db`` is a SQLAlchemy URL (``sqlite:///runinfo/monitoring.db``, ``postgresql://...``), a
    path to a SQLite file, or an Engine. The database is opened read-only where the driver
    allows it; a missing file or a database without Parsl's tables raises DatabaseNotFound.
    Pages of running workflows reload every ``refresh_seconds``; pages of finished workflows are
    kept (up to ``cache_bytes`` in all, 0 to turn this off) and served again without a query.
    """
    engine = open_database(db)
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.extensions["parsl_monitoring_db"] = engine
    app.config["PARSL_REFRESH_SECONDS"] = refresh_seconds
    app.jinja_env.filters.update(
        duration=fmt_duration, time=fmt_time, bytes=fmt_bytes, number=fmt_number, state_color=state_color
    )
    app.jinja_env.globals.update(db_url=display_url(engine), page_url=page_url)

    from .views import bp

    app.register_blueprint(bp)

    cache = PageCache(cache_bytes)
    app.extensions["parsl_monitoring_pages"] = cache

    @app.before_request
    def cached_page():
        body = cache.get(request.full_path) if cache_bytes and request.method == "GET" else None
        if body is not None:
            return Response(body, mimetype="text/html")
        return None

    @app.after_request
    def keep_page(response: Response) -> Response:
        # views set g.finished once they know the page shows a finished workflow
        if cache_bytes and g.get("finished") and response.status_code == 200 and not response.is_streamed:
            cache.put(request.full_path, response.get_data())
        return response

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return render_template("error.html", code=e.code, name=e.name, message=e.description), e.code

    return app
