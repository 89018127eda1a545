"""A stand-in Ray dashboard for unit tests: an HTTP server on 127.0.0.1 (a free port) that answers GETs
with what ``answer(path)`` gives (status, a JSON body or text), for as long as the ``with`` lasts::

    with serving(succeeded_job("r1", logs="x\\n")) as address:   # http://127.0.0.1:<port>
        ...
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str], tuple[int, Any]]  # a path without its query -> (status, JSON body or text)


@contextmanager
def serving(answer: Answer) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1; yields the dashboard's address."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, body = answer(self.path.split("?")[0])
            data = (json.dumps(body) if not isinstance(body, str) else body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def succeeded_job(job: str, *, logs: str) -> Answer:
    """Ray's Jobs API for one job ``job`` that has SUCCEEDED, with ``logs``; any other job: 404."""

    def answer(path: str) -> tuple[int, Any]:
        if path == f"/api/jobs/{job}/logs":
            return 200, {"logs": logs}
        info = {"status": "SUCCEEDED", "submission_id": job, "driver_exit_code": 0, "message": "done"}
        return (200 if path.startswith(f"/api/jobs/{job}") else 404), info

    return answer
