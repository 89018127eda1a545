"""A server on this machine's loopback that answers every GET with one body and counts the requests: what a
test gives a build's ``ADD <url>`` to see whether the engine fetched it (never an address off loopback).

    with counting_server(b"data") as served:
        ...  # a Dockerfile ADDs f"{served.url}/file.txt"
        assert served.paths == []
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CountingServer:
    """Answers every GET with ``body``; ``paths``: each request's path, in order."""

    def __init__(self, body: bytes) -> None:
        self.paths: list[str] = []
        self.body = body.decode()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                served.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@contextlib.contextmanager
def counting_server(body: bytes) -> Iterator[CountingServer]:
    """A ``CountingServer`` serving in a thread until the block ends, then shut down and closed."""
    served = CountingServer(body)
    thread = threading.Thread(target=served.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.httpd.shutdown()
        served.httpd.server_close()
        thread.join()
