"""The minimal HTTP/1.1 client over TLS against a real local TLS server: a body read fills the caller's
buffer across TLS records (one ``recv`` returns one record, at most 16 KiB), and bytes received before
a timeout are delivered, not lost."""

from __future__ import annotations

import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.tls import self_signed
from mounts.stores.lean_http import LeanConnection

BODY = os.urandom(600_000)
WITH_HEAD = 1000  # body bytes sent in the same record as the headers
RECORD = 4096  # the server writes the rest in records this large
STALL_AT = WITH_HEAD + 24 * RECORD  # /stall sends this much of the body, then waits for the test


class TlsServer:
    """Serves ``BODY`` over TLS: the headers with the first ``WITH_HEAD`` bytes, then ``RECORD``-sized
    writes; ``/stall`` stops after ``STALL_AT`` bytes until ``resume`` is set."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.resume = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.context.wrap_socket(raw, server_side=True) as conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                stall = request.startswith(b"GET /stall ")
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY[:WITH_HEAD])
                for at in range(WITH_HEAD, len(BODY), RECORD):
                    if stall and at == STALL_AT:
                        self.resume.wait(30)
                    conn.sendall(BODY[at:at + RECORD])

    def close(self) -> None:
        self.listener.close()


@pytest.fixture()
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsServer]:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's default context trusts it
    server = TlsServer(cert, key)
    yield server
    server.resume.set()
    server.close()


def test_a_body_read_fills_the_buffer_across_tls_records(tls_server: TlsServer) -> None:
    conn = LeanConnection("127.0.0.1", tls_server.port, https=True, timeout=10)
    response = conn.request("GET", "/data", {})
    view = memoryview(bytearray(256 * 1024))
    counts, received = [], bytearray()
    while count := response.readinto(view):
        counts.append(count)
        received += view[:count]
    conn.close()
    assert bytes(received) == BODY
    assert counts[0] == WITH_HEAD  # what came with the headers
    assert counts[1:-1] == [len(view)] * (len(counts) - 2), counts  # whole buffers, not 4 KiB records
    assert sum(counts[1:-1]) + counts[-1] == len(BODY) - WITH_HEAD


def test_bytes_received_before_a_timeout_are_delivered(tls_server: TlsServer) -> None:
    conn = LeanConnection("127.0.0.1", tls_server.port, https=True, timeout=0.5)
    response = conn.request("GET", "/stall", {})
    view = memoryview(bytearray(1 << 20))
    received = bytearray()
    with pytest.raises(TimeoutError):
        while count := response.readinto(view):
            received += view[:count]
    assert bytes(received) == BODY[:STALL_AT]  # everything that arrived, nothing twice
    tls_server.resume.set()
    conn.timeout = 10
    assert conn._sock is not None
    conn._sock.settimeout(10)
    while count := response.readinto(view):
        received += view[:count]
    conn.close()
    assert bytes(received) == BODY
