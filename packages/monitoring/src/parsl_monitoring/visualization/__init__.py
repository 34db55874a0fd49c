"""parsl-visualize: a web dashboard over a Parsl monitoring database.

``create_app(db_url)`` returns the Flask application; the ``parsl-visualize`` command
(:mod:`parsl_monitoring.visualization.cli`) serves it with waitress.
"""

from __future__ import annotations

from .app import create_app
from .database import DEFAULT_DB_URL, DatabaseNotFound, open_database

__all__ = ["DEFAULT_DB_URL", "DatabaseNotFound", "create_app", "open_database"]
