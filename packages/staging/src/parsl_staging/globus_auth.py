"""Globus login for staging: the native-app flow, stored tokens, and ``parsl-globus-auth``.

Tokens are kept per resource server as JSON in ``~/.parsl/.globus.json`` (the file Parsl
uses, so an existing Parsl login keeps working; ``PARSL_GLOBUS_TOKEN_FILE`` moves it),
written with mode 0600. The first use logs in interactively: open the printed URL, then
paste the code. Run ``parsl-globus-auth`` beforehand on machines where the workflow runs
unattended.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

__all__ = [
    "CLIENT_ID",
    "TRANSFER_RESOURCE_SERVER",
    "TRANSFER_SCOPE",
    "get_authorizer",
    "import_globus_sdk",
    "load_tokens",
    "login",
    "main",
    "save_tokens",
    "token_file",
]

#: the "Parsl Application" native client registered with Globus Auth (the one Parsl logs in
#: with, so consents and stored tokens carry over); ``PARSL_GLOBUS_CLIENT_ID`` overrides it
CLIENT_ID = "8b8060fd-610e-4a74-885e-1051c71ad473"
TRANSFER_RESOURCE_SERVER = "transfer.api.globus.org"
TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"
_REDIRECT_URI = "https://auth.globus.org/v2/web/auth-code"


def import_globus_sdk() -> Any:
    """Return the ``globus_sdk`` module, or raise ImportError saying how to install it."""
    try:
        import globus_sdk
    except ImportError as e:
        raise ImportError(
            "Globus staging needs the globus-sdk package, which is not installed. "
            "Install it with: pip install 'parslcore[globus]'",
            name="globus_sdk",
        ) from e
    return globus_sdk


def client_id() -> str:
    return os.environ.get("PARSL_GLOBUS_CLIENT_ID") or CLIENT_ID


def token_file() -> str:
    """Where tokens are stored."""
    return os.environ.get("PARSL_GLOBUS_TOKEN_FILE") or os.path.join(
        os.path.expanduser("~"), ".parsl", ".globus.json"
    )


def load_tokens(path: str | None = None) -> dict[str, dict[str, Any]] | None:
    """Stored tokens by resource server, or None when there are none (or they do not parse)."""
    try:
        with open(path or token_file()) as f:
            tokens = json.load(f)
    except (OSError, ValueError):
        return None
    return tokens if isinstance(tokens, dict) and tokens else None


def save_tokens(tokens: dict[str, dict[str, Any]], path: str | None = None) -> None:
    """Write tokens atomically, readable by this user only."""
    path = path or token_file()
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".globus-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(tokens, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the write's own error is the one to report
            os.unlink(tmp)
        raise


def login(
    ask: Callable[[str], str] | None = None, say: Callable[[str], Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Run the native-app login flow; return the new tokens by resource server (not saved).

    ``ask`` reads the code the user pastes (``input``), ``say`` shows the URL (``print``).
    """
    globus_sdk = import_globus_sdk()
    ask = ask or input
    say = say or print
    client = globus_sdk.NativeAppAuthClient(client_id=client_id())
    client.oauth2_start_flow(
        requested_scopes=["openid", TRANSFER_SCOPE], redirect_uri=_REDIRECT_URI, refresh_tokens=True
    )
    say(
        "Log in to Globus for Parsl staging: open this URL in a browser and authorize access:\n"
        f"{client.oauth2_get_authorize_url()}"
    )
    code = ask("Paste the authorization code here: ").strip()
    if not code:
        raise RuntimeError("No authorization code entered; run parsl-globus-auth again to log in")
    response = client.oauth2_exchange_code_for_tokens(code)
    return dict(response.by_resource_server)


def get_authorizer(interactive: bool = True) -> Any:
    """A refreshing authorizer for the Transfer service from the stored tokens.

    Logs in first (when ``interactive``) if no usable tokens are stored; refreshed tokens
    are written back to the token file.
    """
    globus_sdk = import_globus_sdk()
    path = token_file()
    tokens = load_tokens(path)
    transfer = (tokens or {}).get(TRANSFER_RESOURCE_SERVER)
    if not transfer or not transfer.get("refresh_token"):
        if not interactive:
            raise RuntimeError(f"No Globus login stored in {path}; run parsl-globus-auth first")
        tokens = login()
        save_tokens(tokens, path)
        transfer = tokens[TRANSFER_RESOURCE_SERVER]

    def on_refresh(response: Any) -> None:
        stored = load_tokens(path) or {}
        stored.update(response.by_resource_server)
        save_tokens(stored, path)

    return globus_sdk.RefreshTokenAuthorizer(
        transfer["refresh_token"],
        globus_sdk.NativeAppAuthClient(client_id=client_id()),
        access_token=transfer.get("access_token"),
        expires_at=transfer.get("expires_at_seconds"),
        on_refresh=on_refresh,
    )


def main(argv: list[str] | None = None) -> int:
    """``parsl-globus-auth``: log in to Globus now, so later workflows run unattended."""
    parser = argparse.ArgumentParser(prog="parsl-globus-auth", description=main.__doc__)
    parser.add_argument("--force", action="store_true", help="log in again even if tokens are stored")
    parser.add_argument("--logout", action="store_true", help="forget the stored tokens")
    args = parser.parse_args(argv)
    path = token_file()
    if args.logout:
        try:
            os.unlink(path)
            print(f"Removed the stored Globus tokens ({path})")
        except FileNotFoundError:
            print("No Globus tokens were stored")
        return 0
    try:
        import_globus_sdk()
    except ImportError as e:
        print(e, file=sys.stderr)
        return 1
    print("Parsl Globus command-line authorizer")
    stored = load_tokens(path)
    if stored and TRANSFER_RESOURCE_SERVER in stored and not args.force:
        print(f"Already authorized (tokens in {path}); use --force to log in again")
        return 0
    try:
        tokens = login()
    except (KeyboardInterrupt, EOFError):
        print("\nLogin cancelled", file=sys.stderr)
        return 1
    except Exception as e:
        print(f"Globus login failed: {e}", file=sys.stderr)
        return 1
    save_tokens(tokens, path)
    print(f"Authorization complete; tokens stored in {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
