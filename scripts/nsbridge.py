#!/usr/bin/env python3
"""TCP bridges between the host's network namespace and a private one (the test Ray cluster's).

usage: nsbridge.py NETNS_FILE [--out HOST:PORT=HOST:PORT ...] [--in HOST:PORT=HOST:PORT ...]

``--out LISTEN=TARGET``: listen on LISTEN in the namespace this process starts in (the host), relay each
connection to TARGET inside NETNS_FILE (e.g. the head's dashboard: 127.0.0.2:8265 on the host ->
127.0.0.2:8265 in the cluster's namespace).
``--in LISTEN=TARGET``: listen on LISTEN inside NETNS_FILE, relay each connection to TARGET in the
host's namespace (e.g. Azurite: 127.0.0.1:10000 inside the cluster -> 127.0.0.1:10000 on the host), so
the nodes reach a loopback service of the host at the same address.

A socket keeps the namespace it was created in, so every listening socket is made first (switching
namespaces between them), and the relay then connects from whichever namespace each target lives in.
Needs CAP_SYS_ADMIN (root). Standard library only (Python 3.11 has no os.setns: libc's, via ctypes).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import socket

CLONE_NEWNET = 0x40000000


def setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def listener(address: tuple[str, int]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def connector(address: tuple[str, int], netns_fd: int) -> socket.socket:
    """A not-yet-connected socket created inside ``netns_fd`` (switching back to where we were)."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        setns(netns_fd)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    finally:
        setns(here)
        os.close(here)
    sock.setblocking(False)
    return sock


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the peer is gone already
            pass


async def serve(sock: socket.socket, target: tuple[str, int], target_ns: int) -> None:
    loop = asyncio.get_running_loop()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream = connector(target, target_ns)
        try:
            await loop.sock_connect(upstream, target)
            reader, writer = await asyncio.open_connection(sock=upstream)
        except OSError:
            upstream.close()
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))

    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        await server.serve_forever()


def parse(pair: str) -> tuple[tuple[str, int], tuple[str, int]]:
    listen, _, target = pair.partition("=")
    lhost, _, lport = listen.rpartition(":")
    thost, _, tport = target.rpartition(":")
    return (lhost, int(lport)), (thost, int(tport))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("netns")
    parser.add_argument("--out", action="append", default=[], type=parse)
    parser.add_argument("--in", dest="into", action="append", default=[], type=parse)
    args = parser.parse_args()
    host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    private_ns = os.open(args.netns, os.O_RDONLY)
    servers = [(listener(listen), target, private_ns) for listen, target in args.out]
    setns(private_ns)  # the --in listeners live inside the cluster's namespace
    servers += [(listener(listen), target, host_ns) for listen, target in args.into]
    setns(host_ns)
    for sock, target, _ in servers:
        print(f"bridging {sock.getsockname()} -> {target}", flush=True)
    await asyncio.gather(*(serve(sock, target, ns) for sock, target, ns in servers))


if __name__ == "__main__":
    asyncio.run(main())
