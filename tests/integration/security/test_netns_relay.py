"""``runner.backends.netns_relay`` in real network namespaces (``unshare --net``, as root): inside the
namespace exactly the relayed endpoint answers, with the host service's bytes both ways; every other
host loopback port stays unreachable from there; the listeners live inside the namespace only (never
on the host), the relay refuses the host's own namespace, and ``stop`` closes every listener and
connection and ends its thread."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from runner.backends import netns_relay
from runner.backends.netns_relay import CHUNK, CLONE_NEWNET, NetnsRelay, RelayUnavailable, listeners_in

pytestmark = pytest.mark.root("enters network namespaces")
T = TypeVar("T")


@pytest.fixture
def netns() -> Iterator[str]:
    """A throwaway network namespace (only ``lo``, up), held by a process of this test."""
    holder = subprocess.Popen(["unshare", "--net", "sh", "-c", "ip link set lo up 2>/dev/null; "
                               "echo ready; exec cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "NETWORK_HOLDER": "the-nonce"})
    assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
    yield f"/proc/{holder.pid}/ns/net"
    holder.kill()
    holder.wait()


def inside(netns: str, action: Callable[[], T]) -> T:
    """``action()`` run by a thread that entered ``netns`` (and ends there: never back in the pool)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        fd = os.open(netns, os.O_RDONLY)
        try:
            assert ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) == 0
            result.append(action())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failure.append(exc)
        finally:
            os.close(fd)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if failure:
        raise failure[0]
    return result[0]


def echo_server() -> tuple[socket.socket, threading.Thread]:
    """A host loopback service: replies "got " + what it read, per connection, until closed."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"got " + conn.recv(1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def ask(port: int, host: str = "127.0.0.1") -> str:
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"hello")
            sock.shutdown(socket.SHUT_WR)
            return sock.recv(1024).decode()
    except OSError as exc:
        return type(exc).__name__


def test_only_the_relayed_endpoint_is_reachable_inside_and_stop_ends_it(netns: str) -> None:
    relayed, _ = echo_server()
    other, _ = echo_server()
    port, other_port = relayed.getsockname()[1], other.getsockname()[1]
    try:
        proof = (netns.replace("/ns/net", "/environ"), b"NETWORK_HOLDER=the-nonce")
        relay = NetnsRelay(netns, [("127.0.0.1", port)], proof).start()
        try:
            assert inside(netns, lambda: ask(port)) == "got hello"  # relayed, both ways
            assert inside(netns, lambda: ask(port)) == "got hello"  # connection after connection
            assert inside(netns, lambda: ask(other_port)) == "ConnectionRefusedError"
            assert ask(port) == "got hello"  # the host's service itself is untouched
        finally:
            relay.stop()
        assert not relay._thread.is_alive()
        assert inside(netns, lambda: ask(port)) == "ConnectionRefusedError"  # no listener left
        relay.stop()  # idempotent
    finally:
        relayed.close()
        other.close()


def test_the_listener_is_never_made_on_the_host(netns: str) -> None:
    own = "/proc/self/ns/net"
    # a pid that names another process than the holder (the engine's pids are not ours): refused
    wrong = (netns.replace("/ns/net", "/environ"), b"NETWORK_HOLDER=another-nonce")
    with pytest.raises(RelayUnavailable, match="not the holder container's"):
        NetnsRelay(netns, [("127.0.0.1", 9)], wrong).start()
    with pytest.raises(RelayUnavailable, match="own network namespace"):
        listeners_in(own, [("127.0.0.1", 0)])
    with pytest.raises(RelayUnavailable, match="cannot open"):
        NetnsRelay("/proc/0/ns/net", [("127.0.0.1", 9)]).start()


def test_a_target_that_refuses_closes_the_relayed_connection(netns: str) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.close()  # nothing listens there on the host any more
    relay = NetnsRelay(netns, [("127.0.0.1", port)]).start()
    try:
        # accepted, then closed at once (an empty read, or the write or half-close after it failing): never
        # left hanging (TimeoutError), never refused (the listener is there)
        assert inside(netns, lambda: ask(port)) in ("", "ConnectionResetError", "BrokenPipeError", "OSError")
    finally:
        relay.stop()


def bulk_server(reply: bytes) -> socket.socket:
    """A host loopback service: reads until the client half-closes, then sends the SHA-256 of what it read
    (64 hex characters) and ``reply``, and closes."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            digest = hashlib.sha256()
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
            conn.sendall(digest.hexdigest().encode() + reply)

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("pipes", ["spliced", "no pipe left: copied"])
def test_many_megabytes_cross_both_ways_intact_with_a_half_close(
        netns: str, pipes: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if pipes != "spliced":  # no file descriptor for a pipe: the relay copies through its buffer instead
        def no_pipe(flags: int) -> tuple[int, int]:
            raise OSError(errno.EMFILE, "Too many open files")

        monkeypatch.setattr(netns_relay.os, "pipe2", no_pipe)
    # more than a pipe or buffer; the reply more than the relay's socket buffers (4 MiB at most) and the
    # client's small receive buffer hold: the relay meets a full socket, and must wait, not drop bytes
    sent, reply = os.urandom(5 * CHUNK + 123), os.urandom(64 * CHUNK + 45)
    server = bulk_server(reply)
    port = server.getsockname()[1]

    def exchange() -> bytes:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            sock.settimeout(10)
            sock.connect(("127.0.0.1", port))
            sock.sendall(sent)
            sock.shutdown(socket.SHUT_WR)  # the relay passes the half-close on, the reply still comes
            received = bytearray()
            while chunk := sock.recv(4096):
                received += chunk
            return bytes(received)

    relay = NetnsRelay(netns, [("127.0.0.1", port)]).start()
    try:
        received = inside(netns, exchange)
    finally:
        relay.stop()
        server.close()
    assert received[:64].decode() == hashlib.sha256(sent).hexdigest()
    assert received[64:] == reply


def held_server() -> tuple[socket.socket, list[int]]:
    """A host loopback service: replies "got " + what it read, then holds each connection open until its
    client ends it; ``[open now, the most open at once, accepted]``, counted as it goes."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    counts, lock = [0, 0, 0], threading.Lock()

    def hold(conn: socket.socket) -> None:
        with conn:
            conn.sendall(b"got " + conn.recv(1024))
            while conn.recv(1024):
                pass
            with lock:  # counted closed before the relay can see it closed (and take another)
                counts[0] -= 1

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with lock:
                counts[0] += 1
                counts[1], counts[2] = max(counts[1], counts[0]), counts[2] + 1
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return server, counts


def pipes_open() -> int:
    """This process's pipe file descriptors (the relay's memory: a ``CHUNK`` pipe each way per connection)."""
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the listing's own descriptor, closed since
            found += os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
    return found


def test_past_its_bound_a_connection_waits_and_is_served_once_another_ends(netns: str) -> None:
    server, counts = held_server()
    port = server.getsockname()[1]
    relay = NetnsRelay(netns, [("127.0.0.1", port)], max_connections=4).start()
    clients: list[socket.socket] = []
    try:
        before = pipes_open()
        clients = inside(netns, lambda: [socket.create_connection(("127.0.0.1", port), timeout=10)
                                         for _ in range(6)])  # all six connect: the listener's backlog
        for client in clients:
            client.sendall(b"hello")
        assert [client.recv(1024) for client in clients[:4]] == [b"got hello"] * 4
        assert counts == [4, 4, 4]
        # memory bounded: two pipes (four descriptors) per relayed connection, none for those that wait
        assert pipes_open() - before == 4 * 2 * 2
        for waiting in clients[4:]:  # accepted by the kernel, not by the relay: no reply, not refused
            waiting.settimeout(0.5)
            with pytest.raises(TimeoutError):
                waiting.recv(1024)
            waiting.settimeout(10)
        assert counts == [4, 4, 4]
        clients[0].close()  # one ends: the first that waits is served
        assert clients[4].recv(1024) == b"got hello"
        clients[1].close()
        assert clients[5].recv(1024) == b"got hello"
        assert counts[1:] == [4, 6]  # every one served, never more than four at once
    finally:
        for client in clients:
            client.close()
        relay.stop()
        server.close()
    assert not relay._thread.is_alive()
