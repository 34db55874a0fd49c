"""A small HTTP(S) server for the staging tests, run as a subprocess: ``python http_test_server.py ROOT``.

Prints ``PORT <n>`` once it listens on 127.0.0.1. Routes:

- ``/files/<path>``             the file ROOT/<path>
- ``/redirect/<n>/<path>``      302 to ``/redirect/<n-1>/<path>``, and at 0 to ``/files/<path>``
- ``/status/<code>/<name>``     answers with that status
- ``/truncated/<name>``         announces 1000 bytes, sends 10 and closes
- ``/stream/<nbytes>/<name>``   ``nbytes`` of a repeated 1 MiB pseudo-random block, never stored
- ``/slow/<name>``              sends headers, then nothing for 30 s
- ``/gen/<name>``               ``content of <name>`` and a newline, for many distinct files
"""

from __future__ import annotations

import argparse
import os
import random
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK = random.Random(1234).randbytes(1 << 20)


class Handler(BaseHTTPRequestHandler):
    root = "."

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        kind = parts[0]
        if kind == "files":
            path = os.path.join(self.root, *parts[1:])
            if not os.path.isfile(path):
                return self._send(404, b"no such file")
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(path)))
            self.end_headers()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 16):
                    self.wfile.write(chunk)
        elif kind == "redirect":
            n = int(parts[1])
            rest = "/".join(parts[2:])
            target = f"/redirect/{n - 1}/{rest}" if n > 1 else f"/files/{rest}"
            self._send(302, b"moved", {"Location": target})
        elif kind == "status":
            code = int(parts[1])
            self._send(code, f"status {code}".encode())
        elif kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif kind == "stream":
            total = int(parts[1])
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            view = memoryview(BLOCK)
            left = total
            while left > 0:
                n = min(left, len(BLOCK))
                self.wfile.write(view[:n])
                left -= n
        elif kind == "gen":
            self._send(200, f"content of {parts[-1]}\n".encode())
        elif kind == "slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
        else:
            self._send(404, b"unknown route")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    Handler.root = args.root
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
