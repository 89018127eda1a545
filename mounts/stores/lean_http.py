"""A minimal HTTP/1.1 keep-alive client connection for the Azure fast path.

``http.client`` costs ~1 ms of CPU per request here, mostly in its ``email``-based header parser; this
class sends a request in one ``sendall`` and parses the status line and headers by hand (~0.35 ms per
request, measured against Azurite), which is what lets small files move at the rate the service allows.
It supports exactly what Azure Blob uses: ``Content-Length`` and ``chunked`` bodies, HEAD, keep-alive,
TLS. No pipelining: one request at a time per connection.
"""

from __future__ import annotations

import errno
import socket
import ssl
import struct
import time
from collections.abc import Iterable

from mounts.retry import SDK_CONNECT_TIMEOUT_S

RECV_SIZE = 256 * 1024
MAX_HEADER = 64 * 1024


DEFAULT_IDLE_LIMIT = 30.0


def _idle_limit(keep_alive: str) -> float:
    """How long a connection may sit idle, from ``Keep-Alive: timeout=N`` (a margin below N)."""
    for item in keep_alive.split(","):
        name, _, value = item.strip().partition("=")
        if name.lower() == "timeout":
            try:
                return max(float(value) - 1.0, 0.0)
            except ValueError:
                break
    return DEFAULT_IDLE_LIMIT


class ProtocolError(ConnectionError):
    """The peer closed the connection or sent something that is not an HTTP/1.1 response."""


class ConnectFailed(ConnectionError):
    """A connection to ``host:port`` could not be made (refused, host name not resolved, no route, no answer
    within the connect timeout): nothing was sent. ``mounts.retry`` tells it from one lost once made."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        why = cause.strerror or str(cause) or type(cause).__name__
        super().__init__(f"cannot connect to {host}:{port}: {why}")
        self.host, self.port = host, port
        self.unresolved = isinstance(cause, socket.gaierror)  # the host name did not resolve


_NOT_CONNECTED = (ConnectionError, TimeoutError, socket.gaierror)  # what create_connection raises for them
_NO_ROUTE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL})


class LeanResponse:
    """Status, headers (lower-case names) and a body read straight from the socket."""

    def __init__(self, conn: LeanConnection, status: int, reason: str, headers: dict[str, str],
                 head_request: bool) -> None:
        self._conn = conn
        self.status, self.reason, self.headers = status, reason, headers
        self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        length = headers.get("content-length")
        self._remaining = 0 if head_request or status in (204, 304) else (
            int(length) if length is not None else -1)
        if self._remaining < 0 and not self._chunked:
            conn.keep_alive = False  # body ends when the connection closes

    @property
    def remaining(self) -> int:
        """Body bytes not read yet (-1: unknown, chunked or until close)."""
        return -1 if self._chunked else self._remaining

    def readinto(self, view: memoryview) -> int:
        """Read up to ``len(view)`` body bytes (0 at the end of a ``Content-Length`` body)."""
        if self._chunked:
            raise ProtocolError("readinto on a chunked body")
        if self._remaining == 0:
            return 0
        limit = len(view) if self._remaining < 0 else min(len(view), self._remaining)
        count = self._conn.recv_into(view[:limit])
        if count == 0:
            if self._remaining < 0:
                self._remaining = 0
                return 0
            raise ProtocolError(f"connection closed with {self._remaining} body bytes outstanding")
        if self._remaining > 0:
            self._remaining -= count
        return count

    def read(self) -> bytes:
        """The whole (small) body: listings, error messages."""
        if self._chunked:
            return self._read_chunked()
        parts: list[bytes] = []
        buffer = memoryview(bytearray(RECV_SIZE))
        while count := self.readinto(buffer):
            parts.append(bytes(buffer[:count]))
        return b"".join(parts)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self._conn.read_line().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._conn.read_line():  # trailers up to the empty line
                    pass
                self._chunked, self._remaining = False, 0
                return b"".join(parts)
            parts.append(self._conn.read_exact(size))
            self._conn.read_line()


class LeanConnection:
    """One keep-alive connection to ``host:port`` (TLS when ``https``)."""

    def __init__(self, host: str, port: int, *, https: bool = False, timeout: float = 60.0,
                 connect_timeout: float = SDK_CONNECT_TIMEOUT_S) -> None:
        self.host, self.port, self.https, self.timeout = host, port, https, timeout
        self.connect_timeout = min(connect_timeout, timeout)  # a connect not answered by then: it failed
        self.keep_alive = True
        self._sock: socket.socket | None = None
        self._pending = bytearray()  # bytes received past the headers, not yet consumed
        self._current: LeanResponse | None = None  # a body left unread poisons the connection
        # the server closes idle connections (Azurite after 5 s, announced in Keep-Alive: timeout=5);
        # reconnecting before that avoids a failed request and a retry delay
        self._last_used = 0.0
        self._idle_limit = DEFAULT_IDLE_LIMIT
        self._wait_all = 0  # MSG_WAITALL on plain sockets (TLS sockets take no flags)

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            if isinstance(exc, _NOT_CONNECTED) or exc.errno in _NO_ROUTE:
                raise ConnectFailed(self.host, self.port, exc) from exc
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.https:
            sock.settimeout(self.timeout)
            return ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        # plain HTTP: a blocking socket with the timeout kept by the kernel (SO_RCVTIMEO/SO_SNDTIMEO),
        # so a body read can use MSG_WAITALL: one recv (one GIL round trip) per buffer instead of one
        # per 64 KiB segment (Python's own timeout makes the socket non-blocking, which defeats it)
        sock.settimeout(None)
        seconds = int(self.timeout)
        timeval = struct.pack("ll", seconds, int((self.timeout - seconds) * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        self._wait_all = socket.MSG_WAITALL
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._pending.clear()

    def request(self, method: str, target: str, headers: dict[str, str],
                body: bytes | memoryview | None = None,
                body_chunks: Iterable[bytes | memoryview] | None = None) -> LeanResponse:
        """Send one request (``body``, or ``body_chunks`` streamed after the headers: the caller sets
        ``Content-Length``) and read the response's status and headers."""
        unfinished = self._current is not None and self._current.remaining != 0
        idle_too_long = time.monotonic() - self._last_used > self._idle_limit
        if self._sock is None or not self.keep_alive or unfinished or idle_too_long:
            self.close()
            self._sock = self._connect()
            self.keep_alive = True
        host = self.host if self.port in (80, 443) else f"{self.host}:{self.port}"
        head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        try:
            self._send_all(head.encode(), body, body_chunks)
        except BlockingIOError as exc:  # SO_SNDTIMEO expired
            raise TimeoutError(f"{self.host}:{self.port} took no data for {self.timeout:g} s") from exc
        return self._read_head(method == "HEAD")

    def _send_all(self, head: bytes, body: bytes | memoryview | None,
                  body_chunks: Iterable[bytes | memoryview] | None) -> None:
        assert self._sock is not None
        if body and len(body) <= RECV_SIZE:
            self._sock.sendall(head + body)  # one segment for small requests
            return
        self._sock.sendall(head)
        if body:
            self._sock.sendall(body)
        for chunk in body_chunks or ():
            self._sock.sendall(chunk)

    def _read_head(self, head_request: bool) -> LeanResponse:
        while (end := self._pending.find(b"\r\n\r\n")) < 0:
            if len(self._pending) > MAX_HEADER:
                raise ProtocolError("response headers too long")
            self._fill()
        lines = bytes(self._pending[:end]).decode("latin-1").split("\r\n")
        del self._pending[:end + 4]
        try:
            _version, status, *reason = lines[0].split(" ", 2)
            code = int(status)
        except ValueError as exc:
            raise ProtocolError(f"not an HTTP response: {lines[0][:80]!r}") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("connection", "").lower() == "close":
            self.keep_alive = False
        self._last_used = time.monotonic()
        self._idle_limit = _idle_limit(headers.get("keep-alive", ""))
        self._current = LeanResponse(self, code, reason[0] if reason else "", headers, head_request)
        return self._current

    def _fill(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(RECV_SIZE)
        except BlockingIOError as exc:  # SO_RCVTIMEO expired
            raise TimeoutError(f"no response from {self.host}:{self.port} within {self.timeout:g} s") from exc
        if not data:
            raise ProtocolError("connection closed by the server")
        self._pending += data

    def recv_into(self, view: memoryview) -> int:
        self._last_used = time.monotonic()
        if self._pending:
            count = min(len(view), len(self._pending))
            view[:count] = self._pending[:count]
            del self._pending[:count]
            return count
        assert self._sock is not None
        if self.https:
            return self._recv_records(view)
        try:
            return self._sock.recv_into(view, 0, self._wait_all)
        except BlockingIOError as exc:  # SO_RCVTIMEO expired with nothing received
            raise TimeoutError(f"no data from {self.host}:{self.port} within {self.timeout:g} s") from exc

    def _recv_records(self, view: memoryview) -> int:
        """Fill ``view`` from a TLS socket. One ``recv`` returns one TLS record (at most 16 KiB), and
        TLS sockets take no MSG_WAITALL: without this loop every 16 KiB would be a trip through the
        caller (its Python, its lock, a 16 KiB write into the file). 1 GiB over TLS from Azurite: 2.38
        -> 1.57 s of CPU (bench/RESULTS.md, "over TLS"). Bytes received before a failure (a timeout, a
        reset) are returned first; the failure comes with the next call, so nothing is lost."""
        assert self._sock is not None
        got = 0
        while got < len(view):
            try:
                count = self._sock.recv_into(view[got:])
            except OSError:
                if got:
                    return got
                raise
            if not count:
                break
            got += count
        return got

    def read_line(self) -> bytes:
        while (end := self._pending.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self._pending[:end])
        del self._pending[:end + 2]
        return line

    def read_exact(self, size: int) -> bytes:
        while len(self._pending) < size:
            self._fill()
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data
