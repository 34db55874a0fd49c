"""A pyftpdlib server for the staging tests, run as a subprocess: ``python ftp_test_server.py ROOT``.

Anonymous users may read ROOT; the user ``--user``/``--password`` may also write. Prints
``PORT <n>`` once it listens on 127.0.0.1 (``--port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import logging

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="writer")
    parser.add_argument("--password", default="s3cret")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_anonymous(args.root)
    auth.add_user(args.user, args.password, args.root, perm="elradfmw")
    handler = FTPHandler
    handler.authorizer = auth
    handler.passive_ports = None
    handler.banner = "parsl-staging test server"
    server = ThreadedFTPServer(("127.0.0.1", args.port), handler)
    server.max_cons = 256
    print(f"PORT {server.socket.getsockname()[1]}", flush=True)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
