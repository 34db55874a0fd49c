"""Database URLs in the workflow process, without importing SQLAlchemy there.

The hub checks ``logging_endpoint`` when it is made (a mistake is reported where the user
made it) and logs the URL with its password hidden. Only the writer process opens the
database, so only it needs SQLAlchemy: importing it in the workflow process added some 22,000
objects that every full garbage collection of a busy workflow walked again (measured: full
collections of a 20,000-task HTEX run took 1.06 s instead of 0.58 s). The grammar here is
SQLAlchemy's URL form, ``name[+driver]://[user[:password]@][host][:port][/database][?query]``;
whether the dialect and driver exist is left to the writer process, which reports it.
"""

from __future__ import annotations

import re

__all__ = ["check_url", "safe_url"]

_SCHEME = re.compile(r"(?P<name>[A-Za-z][\w+]*)://(?P<rest>.*)\Z", re.DOTALL)
_HOST_PORT = re.compile(r"(?:\[[^/?\]]*\]|[^/:?]*)(?::(?P<port>[^/?]*))?")


def check_url(url: str) -> None:
    """Raise ValueError, naming the expected form, unless ``url`` is a database URL."""
    problem = _problem(url)
    if problem:
        raise ValueError(
            f"MonitoringHub: logging_endpoint {safe_url(url)!r} is not a database URL ({problem}; "
            f"expected e.g. 'sqlite:////path/monitoring.db' or "
            f"'postgresql://user:password@host/dbname')"
        )


def _problem(url: str) -> str | None:
    if not isinstance(url, str):
        return f"a {type(url).__name__}, not a string"
    found = _SCHEME.match(url)
    if found is None:
        return "no 'dialect://' at its start"
    rest = _split_userinfo(found["rest"])[2]
    port = _HOST_PORT.match(rest)["port"]  # type: ignore[index]  # the pattern matches any text
    if port and not port.isdigit():
        return f"port {port!r} is not a number"
    return None


def safe_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for logs."""
    found = _SCHEME.match(url) if isinstance(url, str) else None
    if found is None:  # not a URL: nothing to hide
        return url
    user, password, rest = _split_userinfo(found["rest"])
    if password is None:
        return url
    return f"{found['name']}://{user}:***@{rest}"


def _split_userinfo(rest: str) -> tuple[str | None, str | None, str]:
    """``(user, password, what follows the '@')`` of what follows ``name://``: the user part
    ends at the last '@' before any query (a password may hold an unescaped '@'; masking too
    much beats showing a piece of it), and a user never holds ':' or '/'."""
    query = rest.find("?")
    at = rest.rfind("@", 0, len(rest) if query < 0 else query)
    if at < 0:
        return None, None, rest
    user, colon, password = rest[:at].partition(":")
    if "/" in user:  # a path with an '@' in it (sqlite:////data/a@b.db), not a user
        return None, None, rest
    return user, (password if colon else None), rest[at + 1 :]
