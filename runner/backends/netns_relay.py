"""``netns_relay``: a container whose ``direct`` bindings need a store on this machine's loopback (Azurite
on 127.0.0.1:10000) gets no network of its own, and runner relays exactly those stores' endpoints into it.

A host-network container would reach every loopback service of the host (a Ray dashboard's Jobs API, the
web UI, another Azurite account). Instead (``open_relayed_network``):

1. a *holder* container (the job's image, ``network_mode: none``, its shell blocked on ``read``; labelled as
   the job's, so every path that removes a job's leftover containers removes it too) gives a network
   namespace with only ``lo``;
2. a relay thread enters that namespace (``setns``: Python 3.11 has no ``os.setns``, libc's via ctypes; needs
   CAP_SYS_ADMIN), makes one listening socket per endpoint there (a socket keeps the namespace it was made
   in), returns to the host's namespace, and relays each connection to the same host:port on the host;
3. the job's container joins the holder's namespace (``network_mode: container:<holder>``): the listeners
   exist before its command runs, and nothing else is reachable from it.

``RelayedNetwork.close`` stops the relay and removes the holder (the job's ``ContainerRun.remove``); a runner
that dies takes its relay with it, and recovery removes the holder with the job's container. Standard
library only; memory bounded (a 256 KiB pipe each way, spliced, or a 256 KiB buffer when no pipe can be
had; ``MAX_CONNECTIONS`` connections at once at most: 64 MiB; one more waits, connected, in the listener's
backlog until one ends, then is served).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import secrets
import socket
import threading
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from runner.backends.base import JOB_LABEL, PreparedImage, RunSpec
from runner.errors import BackendError

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
HOLDER_VARIABLE = "NETWORK_HOLDER"  # in the holder's environment: a nonce, checked through /proc
HOLDER_LABEL = "runner.role"  # on the holder: "network" (the job's container has no such label)
MAX_CONNECTIONS = 128
CHUNK = 262144
START_TIMEOUT_S = 30.0


class RelayUnavailable(OSError):
    """This process cannot enter the holder's namespace (no CAP_SYS_ADMIN, or the engine's processes are
    not visible here): the caller falls back to the host's network and says so."""


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _address(host: str) -> str:
    """The address to listen on / connect to: ``localhost`` as 127.0.0.1 (no resolver in the relay)."""
    return "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")


def _listener(host: str, port: int) -> socket.socket:
    address = _address(host)
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _holds(environ_path: str, entry: bytes) -> bool:
    """Whether the process whose ``environ`` is at ``environ_path`` has ``entry`` (``NAME=value``) in it."""
    try:
        with open(environ_path, "rb") as handle:
            return entry in handle.read(1 << 16).split(b"\0")
    except OSError:
        return False


def listeners_in(netns_path: str, endpoints: Sequence[tuple[str, int]],
                 proof: tuple[str, bytes] | None = None) -> list[socket.socket]:
    """Listening sockets for ``endpoints`` made inside the namespace at ``netns_path``, the calling thread
    back in its own namespace after (else an ``OSError``, and nothing is left listening). Refuses a
    namespace that is the caller's own (never a listener on the host), and, with ``proof`` (an ``environ``
    path and an entry), one whose process does not carry that entry once the namespace is open (its pid
    named another process: an engine in another pid namespace, or the holder gone and its pid reused)."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            there = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise RelayUnavailable(exc.errno, f"cannot open {netns_path}: {exc.strerror}") from exc
        try:
            if os.fstat(there).st_ino == os.fstat(here).st_ino:
                raise RelayUnavailable(0, f"{netns_path} is this process's own network namespace")
            if proof is not None and not _holds(*proof):
                raise RelayUnavailable(0, f"{netns_path} is not the holder container's (the engine's "
                                          "processes are not visible from this process)")
            try:
                _setns(there)
            except OSError as exc:
                raise RelayUnavailable(exc.errno, f"{exc.strerror} (entering a container's network "
                                                  "namespace needs root: CAP_SYS_ADMIN)") from exc
            socks: list[socket.socket] = []
            try:
                socks = [_listener(host, port) for host, port in endpoints]
            finally:
                try:
                    _setns(here)
                except OSError:
                    for sock in socks:
                        sock.close()
                    raise
            return socks
        finally:
            os.close(there)
    finally:
        os.close(here)


F_SETPIPE_SZ = 1031  # fcntl: a pipe's capacity (Linux)


async def _pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy ``src`` to ``dst`` until ``src`` ends, then half-close ``dst`` (the other direction may still be
    sending); when either side fails, both directions end. Through a pipe of ``CHUNK`` bytes with
    ``splice`` (the bytes never enter this process: ~35% less CPU per GiB than a copy through a buffer,
    bench/bench_direct_relay.py), or, when no pipe can be had (no file descriptor left), through one
    fixed buffer."""
    try:
        read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        await _ends(src, dst, _copy(src, dst))
        return
    try:
        with contextlib.suppress(OSError):  # else the default 64 KiB: splice moves at most that at once
            fcntl.fcntl(write_end, F_SETPIPE_SZ, CHUNK)
        await _ends(src, dst, _splice(src, dst, read_end, write_end))
    finally:
        os.close(read_end)
        os.close(write_end)


async def _ends(src: socket.socket, dst: socket.socket, copying: Awaitable[None]) -> None:
    try:
        await copying
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


async def _copy(src: socket.socket, dst: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while count := await loop.sock_recv_into(src, buf):
        await loop.sock_sendall(dst, view[:count])


async def _splice(src: socket.socket, dst: socket.socket, read_end: int, write_end: int) -> None:
    """``src`` -> pipe -> ``dst``, the pipe emptied before the next read (both sockets non-blocking)."""
    flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
    while True:
        try:
            pending = os.splice(src.fileno(), write_end, CHUNK, flags=flags)
        except BlockingIOError:
            await _ready(src, write=False)
            continue
        if not pending:
            return
        while pending:
            try:
                pending -= os.splice(read_end, dst.fileno(), pending, flags=flags)
            except BlockingIOError:
                await _ready(dst, write=True)


async def _ready(sock: socket.socket, write: bool) -> None:
    """Until ``sock`` can be read (or written) without blocking."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def woke() -> None:
        if not ready.done():
            ready.set_result(None)

    add, remove = (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
    add(fd, woke)
    try:
        await ready
    finally:
        remove(fd)


async def _relay(client: socket.socket, target: tuple[str, int]) -> None:
    """One connection made inside the namespace, relayed to ``target`` (connected from this thread, back in
    the host's namespace); closed when either side ends it, or when the relay stops."""
    loop = asyncio.get_running_loop()
    upstream = socket.socket(socket.AF_INET6 if ":" in target[0] else socket.AF_INET, socket.SOCK_STREAM)
    try:
        for sock in (client, upstream):
            sock.setblocking(False)
            # forwarded as it comes: Nagle would hold a request's second write for the server's delayed ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await loop.sock_connect(upstream, target)
        except OSError:
            return  # the store is down: the job sees its connection closed
        await asyncio.gather(_pipe(client, upstream), _pipe(upstream, client))
    finally:
        upstream.close()
        client.close()


class NetnsRelay:
    """Relays connections to ``endpoints`` made inside the namespace at ``netns_path`` to the same host:port
    in this process's namespace, on a thread of its own, until ``stop``; ``max_connections`` at once at
    most (over all endpoints: see ``_accept``)."""

    def __init__(self, netns_path: str, endpoints: Sequence[tuple[str, int]],
                 proof: tuple[str, bytes] | None = None, max_connections: int = MAX_CONNECTIONS) -> None:
        self.netns_path = netns_path
        self.max_connections = max_connections
        self.proof = proof  # see ``listeners_in``
        self.endpoints = list(endpoints)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="netns-relay", daemon=True)

    def start(self) -> NetnsRelay:
        """Return once every endpoint listens inside the namespace; raise what prevented it."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise OSError(f"the network relay did not start within {START_TIMEOUT_S:g} s")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self) -> None:
        """Close the listeners and every relayed connection; idempotent."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(START_TIMEOUT_S)

    def _run(self) -> None:
        try:  # the thread enters the namespace and comes back; the job's thread never moves
            socks = listeners_in(self.netns_path, self.endpoints, self.proof)
        except BaseException as exc:  # noqa: BLE001 - handed to start()
            self._error = exc
            self._ready.set()
            return
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(socks))
        except BaseException as exc:  # noqa: BLE001 - handed to start() when it fails before ready
            self._error = exc
            log.warning("the network relay stopped: %s", exc)
        finally:
            for sock in socks:
                sock.close()
            loop.close()
            self._ready.set()

    async def _serve(self, socks: list[socket.socket]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        relays: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.max_connections)
        accepting = [self._loop.create_task(_accept(sock, (_address(host), port), relays, slots))
                     for sock, (host, port) in zip(socks, self.endpoints, strict=True)]
        self._ready.set()
        await self._stopping.wait()
        for task in [*accepting, *relays]:
            task.cancel()
        await asyncio.gather(*accepting, *relays, return_exceptions=True)


async def _accept(listener: socket.socket, target: tuple[str, int], relays: set[asyncio.Task[None]],
                  slots: asyncio.Semaphore) -> None:
    """Relay every connection ``listener`` accepts, as many at once at most as ``slots`` has (shared by all
    endpoints; memory stays bounded: one more waits, connected, in the listener's backlog until one ends)."""
    loop = asyncio.get_running_loop()
    while True:
        await slots.acquire()
        try:
            client, _ = await loop.sock_accept(listener)
        except BaseException:
            slots.release()
            raise
        task = loop.create_task(_relay(client, target))
        relays.add(task)

        def ended(done: asyncio.Task[None]) -> None:
            relays.discard(done)
            slots.release()

        task.add_done_callback(ended)


class RelayedNetwork:
    """A holder container's network namespace, with a relay of the job's store endpoints in it."""

    def __init__(self, client: Any, holder_id: str, relay: NetnsRelay | None = None) -> None:
        self.client = client
        self.holder_id = holder_id
        self.relay = relay

    @property
    def network_mode(self) -> str:
        return f"container:{self.holder_id}"

    def close(self) -> None:
        """Stop the relay, remove the holder; idempotent, never raises (logged)."""
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        try:
            self.client.api.remove_container(self.holder_id, force=True)
        except Exception as exc:  # noqa: BLE001 - gone already, or the engine away: recovery removes it
            if getattr(getattr(exc, "response", None), "status_code", None) != 404:
                log.warning("removing network holder %s failed: %s", self.holder_id[:12], exc)


def open_relayed_network(client: Any, image_id: str, shell: str, labels: Mapping[str, str],
                         endpoints: Sequence[tuple[str, int]]) -> RelayedNetwork:
    """Start the holder (see the module) and the relay into its namespace; raise ``RelayUnavailable``
    when this process cannot enter it, another error when the engine fails. Nothing is left on failure."""
    api = client.api
    nonce = secrets.token_hex(16)  # proves that the pid the engine reports is the holder's, seen from here
    created = api.create_container(
        image_id, entrypoint=[shell, "-c", "read _"], stdin_open=True, network_disabled=True,
        environment={HOLDER_VARIABLE: nonce},
        labels={**labels, HOLDER_LABEL: "network"},
        host_config=api.create_host_config(network_mode="none"))
    network = RelayedNetwork(client, created["Id"])
    try:
        api.start(created["Id"])
        state = api.inspect_container(created["Id"])["State"]
        if not state.get("Running") or not state.get("Pid"):
            raise OSError(f"the network holder container ended at once ({state.get('Status')})")
        pid = int(state["Pid"])
        proof = (f"/proc/{pid}/environ", f"{HOLDER_VARIABLE}={nonce}".encode())
        network.relay = NetnsRelay(f"/proc/{pid}/ns/net", endpoints, proof).start()
    except BaseException:
        network.close()
        raise
    return network


def relayed_network(client: Any, spec: RunSpec, image: PreparedImage, why: str,
                    endpoints: Sequence[tuple[str, int]]) -> tuple[RelayedNetwork | None, str, str]:
    """(the relayed network, the job container's ``network_mode``, why) for a job whose stores are all on
    loopback (``endpoints``: ``runner.plan.network.plan_network``'s); when this process cannot enter a
    container's namespace (not root), the host's network as before, the reason saying so (logged as a
    warning, kept in the record)."""
    labels = {JOB_LABEL: spec.plan.job_name, **spec.labels}
    try:
        network = open_relayed_network(client, image.id or image.name, image.shell, labels, endpoints)
    except RelayUnavailable as exc:
        shown = ", ".join(f"{h}:{p}" for h, p in endpoints)
        fallback = (f"host network (warning: the container reaches every loopback service of this machine, "
                    f"not only {shown}): runner cannot relay its stores into a namespace of its own: "
                    f"{exc.strerror or exc}; run runner as root to confine it")
        log.warning("job %s: %s", spec.plan.job_name, fallback)
        return None, "host", fallback
    except Exception as exc:  # noqa: BLE001 - the engine failed: one clear error
        raise BackendError(f"could not give the job's container its relayed network: {exc}",
                           hint="check that the Docker engine runs (`docker ps`), then run the job again"
                           ) from exc
    return network, network.network_mode, why
