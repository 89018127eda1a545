"""A TCP proxy in front of a private Azurite that slows traffic to a set rate, so a fault can be injected
while a transfer is under way (on loopback Azurite moves a file in milliseconds), and that counts the
bytes it moved, so a test knows when a transfer has started. When Azurite is stopped, the proxy's
connections to it break and new ones are refused: the client sees what it would see of a dead service.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

CHUNK = 64 * 1024


class Bucket:
    """A token bucket shared by every connection: ``take(n)`` returns once ``n`` bytes may pass at
    ``rate`` bytes per second (a debt is slept off by whoever ran it up)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._allowance = 0.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._allowance = min(self.rate / 20, self._allowance + (now - self._last) * self.rate)
            self._last = now
            self._allowance -= count
            debt = -self._allowance
        if debt > 0:
            time.sleep(debt / self.rate)


class ThrottledProxy:
    """``127.0.0.1:<port>`` forwarding to ``127.0.0.1:<upstream>``; ``down``/``up`` count the bytes
    that went to the client and to the service."""

    def __init__(self, upstream: int, rate: float) -> None:
        self.upstream = upstream
        self.bucket = Bucket(rate)
        self.down = 0
        self.up = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                client.close()  # the service is down: the client's connection is dropped
                continue
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        try:
            while data := source.recv(CHUNK):
                self.bucket.take(len(data))
                sink.sendall(data)
                with self._lock:
                    if downstream:
                        self.down += len(data)
                    else:
                        self.up += len(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
