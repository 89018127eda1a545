"""The ``runner`` entry point: run the CLI in a warm fork server when one is up, else in this process.

Starting Python and importing the CLI's libraries (click, pydantic and the spec models, docker-py,
fsspec) costs ~0.8 s on this project's machines, twice a whole ``docker run``. A fork server
(``runner.forkserver``) pays it once: it imports them and then forks one child per command. This
client sends its argv, environment, working directory and its stdin/stdout/stderr descriptors
(SCM_RIGHTS) over a Unix socket, forwards the signals it gets (Ctrl-C, SIGTERM, SIGHUP), and exits
with the child's status; so the command behaves as if it ran here: same terminal, same files, same
exit code or signal.

When no server is running for this installation, the command runs in this process as before and a
server is started in the background for the next command. ``RUNNER_FORKSERVER=0`` turns it off.
The socket lives in a 0700 directory of the user's (``$XDG_RUNTIME_DIR`` or ``/tmp``), and its name
carries a fingerprint of the installed code, so an edited or upgraded runner never serves a command
with old code: the old server is simply no longer asked, and exits when idle.

A command is served only in the context it would have here: the name also carries a key of this
process's *context* (namespaces, root directory, cgroup, resource limits, nice value and scheduling,
user, groups, capabilities, seccomp, CPU affinity, OOM score, security label: ``process_context``),
so a command started in a sandbox (``unshare -n``, ``ulimit -n 77``, ``nice``, another cgroup...)
finds no server of its context and runs in this process. The server checks it again from the
kernel's side before it runs anything (``runner.forkserver._context_refusal``): a client cannot claim
a context it does not have. The umask, the environment and the working directory are taken on by
the command, not compared.

The installed ``runner`` command (``bin/runner``) starts this client with ``python -S``: no
site-packages and none of their ``.pth`` start-up hooks, which cost more than the rest of a served
command's start. So this module (and ``runner/__init__``) imports only modules built into the
interpreter or already loaded at its start: in an interpreter started that way, ``socket``, ``json``
or ``contextlib`` would each cost 5-30 ms. Hence ``_socket`` and ``_signal``, and ``marshal`` for the
request (client and server run the same interpreter: the fingerprint includes it).
"""

from __future__ import annotations

import _signal
import _socket
import gc
import marshal
import os
import sys
import zlib

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

ENV_SWITCH = "RUNNER_FORKSERVER"
FORWARDED_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
_PACKAGES = ("runner", "mounts")
MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path on Linux, less its terminating NUL


def main() -> None:
    """Run ``runner`` with ``sys.argv``; never returns."""
    paths = run_in_server()
    if paths is not None:
        _start_server(paths)
    gc.disable()  # until the command starts: its imports make ~40k objects and no garbage (cli.main)
    # PYDANTIC_DISABLE_PLUGINS is not set here, though pydantic's scan of the installed distributions for
    # plugins is ~12 M instructions (1%) of a cold `job validate`: os.environ is what a process job, the
    # fork server and its commands inherit, so a user's job relying on a pydantic plugin would lose it
    from runner.cli.main import main as cli_main  # the whole CLI: only when no server runs it

    cli_main(gc_paused=True)


def run_in_server() -> ServerPaths | None:
    """Run ``runner`` with ``sys.argv`` in this installation's server and exit like it; return (having
    done nothing) when no server takes it: the paths a server would have, or None when there can be
    none. The launcher's fast path (``bin/runner``) calls it alone."""
    paths = server_paths() if enabled() else None
    if paths is not None:
        status = run_through_server(paths.socket)
        if status is not None:
            exit_like(status)
    return paths


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "off", "false", "no")


class ServerPaths:
    """Where the server of this installation listens and locks: one per user, source folder and code
    fingerprint. ``prefix`` names every server of the same source folder, whatever its code."""

    def __init__(self, directory: str, root: str, fingerprint: str, context: str = "0") -> None:
        self.directory = directory
        self.prefix = f"fs-{zlib.crc32(root.encode()):08x}-"
        # one server per code (the lock), serving only the context it was started in (the socket)
        self.socket = os.path.join(directory, f"{self.prefix}{fingerprint}.{context}.sock")
        self.lock = os.path.join(directory, f"{self.prefix}{fingerprint}.lock")


def server_paths() -> ServerPaths | None:
    """The paths for this user and code, or None when no private directory can be had."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    directory = os.path.join(base, f"runner-{os.getuid()}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.stat(directory)
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # somebody else's, or open to others: not a place to trust a socket
    context = process_context()
    if context is None:
        return None  # no /proc to tell this process's context by: no server can be trusted with it
    paths = ServerPaths(directory, _source_root(), code_fingerprint(), context_key(context))
    if len(os.fsencode(paths.socket)) + len(".new") > MAX_SOCKET_PATH:
        return None  # too long for a Unix socket's address (the server binds "<socket>.new" first)
    return paths


def _source_root() -> str:
    """The folder that holds this ``runner`` package (and ``mounts`` beside it)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def code_fingerprint(root: str | None = None) -> str:
    """A short hash of the interpreter, every source file of ``runner`` and ``mounts`` under ``root``
    (path, size, mtime) and the folders packages are installed in (an install or upgrade changes
    them). The same with or without ``-S``: the launcher's client and ``runner-py`` agree."""
    root = root or _source_root()
    parts = [os.path.realpath(sys.executable), sys.version]
    for package in _PACKAGES:
        for folder, dirs, files in os.walk(os.path.join(root, package)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    info = os.stat(os.path.join(folder, name))
                    parts.append(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}")
    for entry in install_folders():
        try:
            parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            continue
    data = "\n".join(parts).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


# What a forked child inherits from the server and a command could not take on from its client
# (an unprivileged process cannot leave a namespace or raise a limit): all must be the client's.
NAMESPACES = ("cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
              "user", "uts")
STATUS_FIELDS = (b"Uid", b"Gid", b"Groups", b"CapInh", b"CapPrm", b"CapEff", b"CapBnd", b"CapAmb",
                 b"NoNewPrivs", b"Seccomp", b"Seccomp_filters", b"Speculation_Store_Bypass",
                 b"SpeculationIndirectBranch", b"Cpus_allowed_list", b"Mems_allowed_list")
STAT_FIELDS = (("nice", 16), ("real-time priority", 37), ("scheduling policy", 38))  # after "(comm)"


def process_context(pid: int | str = "self") -> dict[str, bytes] | None:
    """What of process ``pid``'s context a forked child would inherit, read from ``/proc`` (each name
    says what it is: "net namespace", "rlimits", "CapEff", "nice"...); None when it cannot be read
    (no ``/proc``, no access, or the process is gone). Plain ``os`` calls: the client runs it on
    every command (~0.1-0.3 ms)."""
    proc = f"/proc/{pid}/"
    context: dict[str, bytes] = {}
    try:
        for name in NAMESPACES:
            try:
                context[f"{name} namespace"] = b"%d" % os.stat(f"{proc}ns/{name}").st_ino
            except FileNotFoundError:  # a kind of namespace this kernel does not have
                context[f"{name} namespace"] = b""
        root = os.stat(f"{proc}root")
        context["root directory"] = b"%d:%d" % (root.st_dev, root.st_ino)
        context["cgroup"] = _read(f"{proc}cgroup")
        context["rlimits"] = _read(f"{proc}limits")
        for line in _read(f"{proc}status").split(b"\n"):
            field, _, value = line.partition(b":")
            if field in STATUS_FIELDS:
                context[field.decode()] = value.strip()
        stat = _read(f"{proc}stat").rsplit(b")", 1)[1].split()
        for name, index in STAT_FIELDS:
            context[name] = stat[index]
        context["oom_score_adj"] = _read(f"{proc}oom_score_adj").strip()
    except (OSError, IndexError):
        return None
    try:
        context["security label"] = _read(f"{proc}attr/current").strip(b"\0\n")
    except OSError:  # no security module that labels processes
        context["security label"] = b""
    return context


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def context_key(context: dict[str, bytes]) -> str:
    """A short hash of a ``process_context``: the part of a server's socket name that only clients
    of the same context find."""
    data = b"\n".join(b"%s=%s" % (name.encode(), value) for name, value in sorted(context.items()))
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def context_differences(client: dict[str, bytes], child: dict[str, bytes]) -> list[str]:
    """The names of what differs between a client's context and the one a forked child would run in
    (a name either lacks counts as differing)."""
    return sorted(name for name in client.keys() | child.keys() if client.get(name) != child.get(name))


def install_folders() -> list[str]:
    """The user's and the interpreter's site-packages folders, whether or not ``site`` ran at start-up
    (importing it under ``-S`` only defines its functions)."""
    import site  # stdlib, but not imported under -S unless needed

    return [site.getusersitepackages(), *site.getsitepackages()]


def run_through_server(path: str) -> int | None:
    """The command's wait status (as ``os.waitstatus_to_exitcode``), or None when no server took it
    (none running, or it went away before starting the command: then it is safe to run it here)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    # forwarding starts before the request is sent: a Ctrl-C that comes early waits in the socket
    # until the supervisor reads it, right after the command has started
    previous = _forward_signals(sock)
    try:
        return _converse(sock)
    finally:
        for sig, handler in previous.items():
            _signal.signal(sig, handler)


def _converse(sock: _socket.socket) -> int | None:
    try:
        _send_request(sock)
    except OSError:
        sock.close()
        return None
    lines = _lines(sock)
    first = next(lines, b"")
    if first.startswith(b"exit "):  # the command itself reports its status, sometimes before its pid
        return int(first.split()[1])
    if not first.startswith(b"pid "):  # "decline <why>" (another context), or the server went away
        sock.close()
        return None
    for line in lines:
        if line.startswith(b"exit "):
            return int(line.split()[1])
    # the server's supervisor died without a word (killed): report it as a kill, as a shell would
    print("runner: the command's process ended without a status", file=sys.stderr)
    return -int(_signal.SIGKILL)


def _lines(sock: _socket.socket) -> Iterator[bytes]:
    """The lines the server sends, until it closes the connection (or it breaks)."""
    buffered = b""
    while True:
        try:
            data = sock.recv(256)
        except OSError:
            return
        if not data:
            return
        buffered += data
        *lines, buffered = buffered.split(b"\n")
        yield from lines


def _send_request(sock: _socket.socket) -> None:
    fds = [_open_or_null(fd) for fd in (0, 1, 2)]
    request = {
        "argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
        # how this process was started, which click's usage lines show ("runner", "python -m runner")
        "main_package": getattr(sys.modules.get("__main__"), "__package__", None),
        "streams": [[getattr(s, "encoding", None), getattr(s, "errors", None)]
                    for s in (sys.stdin, sys.stdout, sys.stderr)],
    }
    payload = marshal.dumps(request)
    rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)  # an array of C ints
    sock.sendmsg([len(payload).to_bytes(4, "big")], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    sock.sendall(payload)


def _open_or_null(fd: int) -> int:
    try:
        os.fstat(fd)
        return fd
    except OSError:  # a closed standard stream: the child gets /dev/null, as the interpreter would
        return os.open(os.devnull, os.O_RDWR)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _forward_signals(sock: _socket.socket) -> dict[int, object]:
    """While the command runs, the signals this process gets are sent on to it (through the server's
    supervisor, which knows its pid). Returns the handlers to put back."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        try:  # noqa: SIM105 - contextlib would cost ~5 ms to import here (see the module's docstring)
            sock.sendall(b"signal %d\n" % signum)
        except OSError:  # the command has ended: nothing to tell
            pass

    return {sig: _signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}


def exit_like(status: int) -> None:
    """Exit with the command's exit code, or die of the same signal that ended it."""
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - as above
            stream.flush()
        except (OSError, ValueError):
            pass
    if status < 0:
        if -status not in (_signal.SIGKILL, _signal.SIGSTOP):  # those two have no handler to reset
            _signal.signal(-status, _signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        status = 128 - status
    os._exit(status)


def _start_server(paths: ServerPaths) -> None:
    """Start a server for the next command, unless one is already starting (it holds the lock)."""
    import contextlib  # (these three: only when a server has to be started)
    import fcntl

    try:
        with open(paths.lock, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError:
        return  # held: a server is starting or running
    import subprocess

    with contextlib.suppress(OSError):  # no server this time: commands still run in their own process
        subprocess.Popen([sys.executable, "-m", "runner.forkserver", paths.socket, paths.lock],
                         cwd=_source_root(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
