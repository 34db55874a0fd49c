"""``parsl-visualize [DB_URL] [-p PORT] [-l ADDRESS] [--debug]``: serve the dashboard."""

from __future__ import annotations

import argparse
import logging
import sys

from .database import DEFAULT_DB_URL, DatabaseNotFound

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="parsl-visualize",
        description="Serve a web dashboard of the workflows in a Parsl monitoring database.",
    )
    p.add_argument(
        "db_url",
        nargs="?",
        default=DEFAULT_DB_URL,
        metavar="DB_URL",
        help=f"SQLAlchemy URL of the database, or a path to a SQLite file (default: {DEFAULT_DB_URL})",
    )
    p.add_argument("-p", "--port", type=int, default=8080, help="port to listen on (default: 8080)")
    p.add_argument(
        "-l",
        "--listen",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)",
    )
    p.add_argument(
        "-d",
        "--debug",
        action="store_true",
        help="run Flask's development server with the debugger and reloader",
    )
    p.add_argument("--threads", type=int, default=4, help="request threads for waitress (default: 4)")
    p.add_argument(
        "--refresh",
        type=int,
        default=10,
        metavar="SECONDS",
        help="reload pages of running workflows this often (default: 10)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from .app import create_app
    except ImportError as e:  # flask is an optional dependency
        print(
            f"parsl-visualize needs Flask and waitress ({e.name} is missing): "
            "pip install 'parsl-monitoring[visualize]'",
            file=sys.stderr,
        )
        return 2
    try:
        app = create_app(args.db_url, refresh_seconds=args.refresh)
    except DatabaseNotFound as e:
        print(f"parsl-visualize: {e}", file=sys.stderr)
        return 1
    url = f"http://{'[' + args.listen + ']' if ':' in args.listen else args.listen}:{args.port}/"
    if args.debug:
        app.run(host=args.listen, port=args.port, debug=True)
        return 0
    try:
        import waitress
    except ImportError:
        print(
            "parsl-visualize serves with waitress: pip install 'parsl-monitoring[visualize]' "
            "(or use --debug for Flask's development server)",
            file=sys.stderr,
        )
        return 2
    print(f"parsl-visualize: serving {app.jinja_env.globals['db_url']} on {url}", flush=True)
    waitress.serve(app, host=args.listen, port=args.port, threads=args.threads, ident="parsl-visualize")
    return 0


if __name__ == "__main__":
    sys.exit(main())
