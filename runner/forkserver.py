"""A warm process that runs ``runner`` commands in forked children (the server side of
``runner.launch``).

    python -m runner.forkserver SOCKET LOCK

It holds LOCK (one server per socket), imports the CLI's libraries once, then listens on SOCKET.
Ahead of each connection it forks a *spare*: a *supervisor* that has already forked its *command*
process, both waiting (so no command waits for a fork of this large process). The spare accepts the
next client, tells the server (which forks the next spare), receives the client's request (argv,
environment, working directory, umask and its stdin/stdout/stderr descriptors) and hands it to the
command, which takes on all of that and runs the CLI exactly as the client would have. The
supervisor tells the client the command's pid, passes on the signals the client forwards, and
reports the command's wait status. If the client goes away (killed), the command is killed too, as
it would have died with the client's process: the next ``runner`` command then recovers its job.

Before it hands the request on, the supervisor compares the client's context with the waiting
command's, both read from the kernel (``/proc`` of the peer the socket names, and its I/O priority):
namespaces, root, cgroup, limits, nice, ids, capabilities... (``runner.launch.process_context``). If
anything differs it declines ("decline <what differs>") and the client runs the command itself: a
command never runs in a context its caller does not have (a sandbox, lower limits, ``nice``...).

Forking is only safe from a process with one thread, so the server starts none (it checks), and it
opens no files, sockets or database connections the children could share. It exits after
``RUNNER_FORKSERVER_IDLE_S`` seconds (default 600) without a command, or as soon as its socket is
removed or replaced; its waiting spare and command then exit too (spares serving a client go on).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import io
import marshal
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any

from runner.forkserver_prefault import prefault
from runner.launch import context_differences, process_context

IDLE_ENV = "RUNNER_FORKSERVER_IDLE_S"
CHECK_EVERY_S = 30.0
# A waiting command left alone this long copies the server's writable memory (``prefault``)
PREFAULT_AFTER_S = 0.5


def serve(socket_path: str, lock_path: str) -> None:
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server has it
    cli = importlib.import_module("runner.cli.main")
    for name in cli.WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library missing here: the command that needs it says so
            if name.startswith(("runner.", "mounts.")):
                raise  # our own module: a stale warm-up list is a bug (tests/unit/cli/test_main.py)
        except Exception:  # noqa: BLE001 - cannot load on this machine (no libfuse: MountFailed); the
            continue  # command that needs it imports it again and says why; every other command is served
    with contextlib.suppress(Exception):
        cli.warm()  # every group of the click tree imported, its help options made, once for every command
    if threading.active_count() != 1:
        return  # an import started a thread: forking would not be safe, so no server
    # Everything imported so far lives as long as the server: out of the collector's sight, a child's
    # collections no longer touch (and so copy) every page of it: 4x fewer page faults per command.
    gc.collect()
    gc.freeze()
    listener = _listen(socket_path)
    _retire_older_servers(socket_path)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # spares (supervisors) are reaped by the kernel
    alive_r, alive_w = os.pipe()  # EOF for the spare waiting for a client when the server is gone
    idle_s = float(os.environ.get(IDLE_ENV, "600"))
    identity = os.stat(socket_path).st_ino
    last = time.monotonic()
    taken: int | None = None
    while time.monotonic() - last < idle_s and _still_ours(socket_path, identity):
        if taken is None:
            taken = _start_spare(listener, lock, alive_r, alive_w)
        if select.select([taken], [], [], min(CHECK_EVERY_S, idle_s))[0]:
            took = os.read(taken, 1) == b"x"  # or the spare died before taking one (EOF)
            os.close(taken)
            taken = None  # the next spare takes the next client
            if took:
                last = time.monotonic()
            else:
                time.sleep(0.1)  # (never a busy loop of failing spares)
    if _still_ours(socket_path, identity):
        os.unlink(socket_path)
    # returning closes alive_w: the waiting spare and its command exit; spares serving a client go on


def _start_spare(listener: socket.socket, lock: int, alive_r: int, alive_w: int) -> int:
    """Fork a *spare*: a supervisor with its command process already forked, waiting for the next
    client, so a command pays no fork (two forks of this large process: ~9 ms here). Returns the read
    end of a pipe that becomes readable when the spare has taken a client."""
    taken_r, taken_w = os.pipe()
    if os.fork() == 0:
        try:
            os.close(taken_r)
            os.close(alive_w)
            os.close(lock)
            _spare(listener, alive_r, taken_w)
        finally:
            os._exit(1)  # the spare must never run the server's loop
    os.close(taken_w)
    return taken_r


def _spare(listener: socket.socket, alive_r: int, taken_w: int) -> None:
    """In a spare: fork the command, which waits for its request, then wait for a client (or for the
    server to go); take it, tell the server, hand the request to the command and supervise it."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    to_command, from_spare = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        listener.close()
        to_command.close()
        for fd in (alive_r, taken_w):
            os.close(fd)
        _await_request(from_spare)  # never returns
    from_spare.close()
    if alive_r in select.select([listener.fileno(), alive_r], [], [])[0]:
        return  # the server is gone (its end closed): so is this spare, and the command with it
    conn, _ = listener.accept()
    listener.close()
    os.write(taken_w, b"x")
    os.close(taken_w)
    _supervise(conn, to_command, pid)


def _await_request(from_spare: socket.socket) -> None:
    """In a waiting command: receive the client's request (with its descriptors and the client's
    connection) from the spare, and run it; exit if the spare goes away first."""
    if not select.select([from_spare], [], [], PREFAULT_AFTER_S)[0]:
        prefault(lambda: bool(select.select([from_spare], [], [], 0)[0]))
    try:
        payload, fds = _receive(from_spare, fd_count=4)
        request = marshal.loads(payload)  # (the client runs this same interpreter: see runner.launch)
    except BaseException:  # noqa: BLE001 - no client came: nothing to run
        os._exit(0)
    from_spare.close()
    *streams, conn_fd = fds
    os.set_inheritable(conn_fd, False)  # received descriptors are inheritable: no job process holds it
    _become_command(request, streams, socket.socket(fileno=conn_fd))  # never returns


def server_pids(directory: str) -> list[int]:
    """The pids of the servers whose socket lies under ``directory`` (found by their command line:
    ``python -m runner.forkserver SOCKET LOCK``, which their forked children share: those whose
    parent is a server are left out), for tests and benchmarks that stop their own."""
    prefix = os.path.join(directory, "").encode()
    found: dict[int, int] = {}  # pid -> parent pid
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            if b"runner.forkserver" in argv and any(arg.startswith(prefix) for arg in argv):
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    found[int(entry)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
    return [pid for pid, parent in found.items() if parent not in found]


def _listen(socket_path: str) -> socket.socket:
    """Listen on ``socket_path``: bound under a temporary name and renamed into place, so a client
    never connects to a socket that is not listening yet."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = f"{socket_path}.new"  # (the lock is ours: no other server binds this name)
    if os.path.exists(temporary):
        os.unlink(temporary)
    listener.bind(temporary)
    os.chmod(temporary, 0o600)
    listener.listen(64)
    os.replace(temporary, socket_path)
    return listener


def _retire_older_servers(socket_path: str) -> None:
    """Remove the sockets of this source folder's servers for other code (edited since): they get no
    more commands and exit at their next check instead of idling for minutes each. Servers of other
    folders (another checkout in use) are left alone. The name is ``fs-<folder>-<fingerprint>.sock``."""
    directory, name = os.path.split(socket_path)
    prefix = name[:name.rfind("-") + 1]
    if not prefix:
        return  # not a name ``runner.launch`` gives: nothing to compare with
    for other in os.listdir(directory):
        if other.startswith(prefix) and other.endswith(".sock") and other != name:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, other))


def _still_ours(socket_path: str, identity: int) -> bool:
    try:
        return os.stat(socket_path).st_ino == identity
    except OSError:
        return False


def _supervise(conn: socket.socket, to_command: socket.socket, pid: int) -> None:
    """In the supervisor: pass the request to the waiting command, relay signals, report its status;
    then ``_exit``."""
    try:
        payload, fds = _receive(conn, fd_count=3)  # passed on as it came: the command decodes it
        refusal = _context_refusal(conn, pid)
        if refusal is not None:  # the client runs it; closing ``to_command`` ends the waiting command
            with contextlib.suppress(OSError):
                conn.sendall(f"decline {refusal}\n".encode())
            os._exit(0)
        socket.send_fds(to_command, [struct.pack("!I", len(payload))], [*fds, conn.fileno()])
        to_command.sendall(payload)
        to_command.close()
        for fd in fds:
            os.close(fd)
        conn.sendall(f"pid {pid}\n".encode())
        status = _relay(conn, pid)
        with contextlib.suppress(OSError):  # the client may be gone
            conn.sendall(f"exit {status}\n".encode())
    except BaseException:  # noqa: BLE001 - the supervisor must never run the server's loop
        os._exit(1)
    os._exit(0)


_SO_PEERPIDFD = getattr(socket, "SO_PEERPIDFD", 77)  # Linux >= 6.5; Python >= 3.13 names it
_IOPRIO_GET = {"x86_64": 252, "aarch64": 31}  # syscall numbers; elsewhere the I/O priority is not read


def _context_refusal(conn: socket.socket, command_pid: int) -> str | None:
    """Why the client on ``conn`` may not have its command run by ``command_pid`` (what differs
    between their contexts, or that the client's cannot be read), or None when they match."""
    peer = _peer(conn)
    if peer is None:
        return "the client's process is not known"
    pid, pidfd = peer
    try:
        theirs, ours = process_context(pid), process_context(command_pid)
        if theirs is not None and ours is not None:
            theirs["I/O priority"], ours["I/O priority"] = _io_priority(pid), _io_priority(command_pid)
        # read from the client's process, not another that took its pid since: it is still there
        alive = not select.select([pidfd], [], [], 0)[0]
    finally:
        os.close(pidfd)
    if theirs is None or ours is None or not alive:
        return "the client's context cannot be read"
    differences = context_differences(theirs, ours)
    return f"its context differs ({', '.join(differences)})" if differences else None


def _peer(conn: socket.socket) -> tuple[int, int] | None:
    """The pid of the process at the other end of ``conn`` (as the kernel recorded it at connect) and
    a pidfd that stays with that very process; None when there is none in this pid namespace."""
    pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    if pid <= 0:
        return None
    try:
        return pid, conn.getsockopt(socket.SOL_SOCKET, _SO_PEERPIDFD)
    except OSError:  # an older kernel: a pidfd taken now (the client is blocked waiting for an answer)
        try:
            return pid, os.pidfd_open(pid)
        except OSError:
            return None


def _io_priority(pid: int) -> bytes:
    """The process's I/O priority (``ionice``), which ``/proc`` does not show; b"" where unknown."""
    number = _IOPRIO_GET.get(os.uname().machine)
    if number is None:
        return b""
    import ctypes  # (already imported by the server's warm-up: ``prefault`` uses it)

    value = ctypes.CDLL(None, use_errno=True).syscall(number, 1, pid)  # IOPRIO_WHO_PROCESS
    return b"%d" % value


def _receive(conn: socket.socket, fd_count: int) -> tuple[bytes, list[int]]:
    """A request's payload and the ``fd_count`` descriptors sent with its length."""
    header, fds, _flags, _addr = socket.recv_fds(conn, 4, fd_count)
    if len(header) != 4 or len(fds) != fd_count:
        raise ConnectionError("a malformed request")
    (size,) = struct.unpack("!I", header)
    payload = bytearray()
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            raise ConnectionError("the client went away")
        payload += chunk
    return bytes(payload), fds


def _relay(conn: socket.socket, pid: int) -> int:
    """Wait for the command to end, passing on the client's signals; the command's wait status as
    ``os.waitstatus_to_exitcode`` gives it. A client that goes away takes the command with it."""
    pidfd = os.pidfd_open(pid)
    buffered = b""
    while pidfd not in select.select([pidfd, conn.fileno()], [], [])[0]:
        data = conn.recv(256)
        if not data:  # the client was killed: so is its command (its job is recovered later)
            os.kill(pid, signal.SIGKILL)
            break
        buffered += data
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            if line.startswith(b"signal "):
                os.kill(pid, int(line.split()[1]))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _become_command(request: dict[str, Any], fds: list[int], conn: socket.socket) -> None:
    """In the command's process: take on the client's streams, environment, directory and argv,
    then run the CLI as the client would have. Its exit status goes to the client as soon as the
    command is done (flushed), not after this large process has been torn down; the supervisor
    reports it again, and any death by a signal."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        sys.argv = list(request["argv"])
        sys.modules["__main__"].__package__ = request.get("main_package")
        _reopen_streams(request["streams"])
        _forget_server_state()
    except BaseException as err:  # noqa: BLE001
        os.write(2, f"runner: could not start the command: {err}\n".encode())
        os._exit(1)
    from runner.cli.main import run  # imported (and warmed) by serve() before any fork

    try:
        status = run()
    except BaseException:  # noqa: BLE001 - never silently: this process ends with os._exit
        import traceback

        traceback.print_exc()
        status = 1
    with contextlib.suppress(OSError):  # the client may be gone
        conn.sendall(f"exit {status}\n".encode())
    os._exit(status)


def _forget_server_state() -> None:
    """What the standard library derived from the server's process and environment: reseed the random
    generator (every child would draw the same numbers), re-read TZ and TMPDIR from the client's."""
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if "tempfile" in sys.modules:
        import tempfile

        tempfile.tempdir = None
    time.tzset()


def _reopen_streams(streams: list[list[str | None]]) -> None:
    """New ``sys.std*`` objects over descriptors 0-2 with the client's encodings, buffered as the
    interpreter would buffer them there (line-buffered on a terminal)."""
    made = []
    for fd, (encoding, errors) in enumerate(streams):
        binary = open(fd, "rb" if fd == 0 else "wb", closefd=False)  # noqa: SIM115 - sys.std* stay open
        made.append(io.TextIOWrapper(binary, encoding=encoding or "utf-8", errors=errors or "strict",
                                     line_buffering=fd == 2 or (fd == 1 and os.isatty(fd))))
    sys.stdin, sys.stdout, sys.stderr = made


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
