"""The minimal HTTP/1.1 client against a real local server: lengths, chunked bodies, HEAD, keep-alive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mounts.stores.lean_http import DEFAULT_IDLE_LIMIT, LeanConnection, ProtocolError, _idle_limit

BODY = bytes(range(256)) * 1000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200 if self.path == "/data" else 404)
        body = BODY if self.path == "/data" else b"missing"
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"0x1"')
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()

    def do_PUT(self) -> None:  # noqa: N802
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.send_header("X-Got", str(len(data)))
        self.end_headers()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client dropping a connection with an unread body is part of the test


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_requests_share_one_connection(server: int) -> None:
    conn = LeanConnection("127.0.0.1", server)
    response = conn.request("GET", "/data", {})
    assert response.status == 200 and response.headers["etag"] == '"0x1"'
    buffer = memoryview(bytearray(10_000))
    received = bytearray()
    while count := response.readinto(buffer):
        received += buffer[:count]
    assert bytes(received) == BODY
    first_socket = conn._sock
    head = conn.request("HEAD", "/data", {})
    assert head.status == 200 and head.read() == b"" and head.headers["content-length"] == str(len(BODY))
    put = conn.request("PUT", "/x", {"Content-Length": "300000"}, b"x" * 300_000)  # body sent apart
    assert put.status == 201 and put.headers["x-got"] == "300000"
    assert conn.request("GET", "/chunked", {}).read() == b"hello chunked world"
    missing = conn.request("GET", "/nope", {})
    assert (missing.status, missing.read()) == (404, b"missing")
    assert conn._sock is first_socket  # keep-alive all along
    conn.close()


def test_unread_body_means_a_fresh_connection(server: int) -> None:
    conn = LeanConnection("127.0.0.1", server)
    conn.request("GET", "/data", {})  # body left unread
    first_socket = conn._sock
    assert conn.request("GET", "/nope", {}).read() == b"missing"
    assert conn._sock is not first_socket
    conn.close()


def test_refused_connection_is_a_connection_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(ConnectionError):
            LeanConnection("127.0.0.1", port, timeout=2).request("GET", "/", {})
    assert issubclass(ProtocolError, ConnectionError)  # retried like any connection failure


def test_idle_limit_follows_the_servers_keep_alive_timeout() -> None:
    assert _idle_limit("timeout=5") == 4.0  # Azurite: reconnect before it drops the connection
    assert _idle_limit("max=100, timeout=60") == 59.0
    assert _idle_limit("") == DEFAULT_IDLE_LIMIT
    assert _idle_limit("timeout=soon") == DEFAULT_IDLE_LIMIT
