"""FUSE mount lifecycle: mount, wait until mounted, unmount — as one context manager.

Approach (why an in-process thread, not a child process):

* The FUSE loop (libfuse3 through mfusepy) runs in a daemon thread of *this* process. Mounting is
  fast (adlfs and the filesystem object are already imported and authenticated; no pickling of
  credentials to a child), and filesystems that only exist in this process (``memory://``) work.
* Every exit path unmounts: ``fuse_mount`` unmounts in ``finally`` (normal exit, exceptions, SIGINT's
  ``KeyboardInterrupt``). SIGTERM/SIGHUP: while a mount is active and the caller has not installed its own
  handler, ``fuse_mount`` installs one (main thread only) that raises ``SystemExit(128 + signum)``, so
  ``with`` blocks unwind and unmount. This also keeps libfuse from taking SIGTERM over: libfuse's
  ``fuse_set_signal_handlers`` only installs its handler where the disposition is ``SIG_DFL``
  (lib/fuse_signals.c), and its handler would end the FUSE loop but leave the process running.
* If the FUSE thread crashes, the kernel connection is closed by libfuse's own cleanup; the ``finally``
  still unmounts (lazily when busy) and, if the loop does not end, aborts the connection through
  fusectl (``/sys/fs/fuse/connections/<dev>/abort``) so nothing hangs.
* A SIGKILLed process cannot clean up; its mounts stay as "Transport endpoint is not connected".
  ``cleanup_stale_mounts(root)`` (called by the executor at startup) lazily unmounts every FUSE mount
  under ``root`` found in ``/proc/mounts``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import platform
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from mounts.errors import MountFailed

log = logging.getLogger(__name__)

MNT_DETACH = 2
READY_POLL_S = 0.002
UNMOUNT_JOIN_S = 10.0
FUSECTL = Path("/sys/fs/fuse/connections")


@dataclass
class MountOptions:
    """Options for one FUSE mount (passed to libfuse as ``-o``)."""

    read_only: bool = False
    allow_other: bool = True
    single_threaded: bool = False  # libfuse's -s; multithreaded measured faster (bench/fuse_binding.py)
    fsname: str = "runner"
    # the kernel's readahead window for the mount: above 1 MiB, so libfuse3 receives 1 MiB reads; 4 MiB
    # read 13-16% faster than 16 MiB through ro_mount (bench/RESULTS.md, "Kernel readahead window")
    read_ahead_kb: int = 4096
    extra: dict[str, Any] = field(default_factory=dict)
    # True while the filesystem finishes work (an upload in flush) that unmounting must wait for
    is_busy: Callable[[], bool] | None = None
    # how long to wait for the FUSE loop after unmounting before aborting the connection
    unmount_timeout: float = UNMOUNT_JOIN_S


@dataclass
class MountHandle:
    mountpoint: Path
    device: int  # st_dev of the mounted filesystem (names its fusectl / bdi entries)
    # set as the block exits: the FUSE loop had ended before it was stopped (its connection was aborted,
    # or something else unmounted it), so what was done through the mount after that failed
    ended_early: bool = False


def _unescape_mount_field(raw: str) -> str:
    r"""/proc/mounts escapes space, tab, newline and backslash as \ooo."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and len(raw[i + 1 : i + 4]) == 3 and raw[i + 1 : i + 4].isdigit():
            out.append(chr(int(raw[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def fuse_mounts() -> list[tuple[Path, str]]:
    """(mountpoint, fstype) of every FUSE mount visible in this mount namespace."""
    result = []
    with open("/proc/mounts", encoding="utf-8", errors="surrogateescape") as mounts:
        for line in mounts:
            parts = line.split()
            if len(parts) >= 3 and parts[2].startswith("fuse"):
                result.append((Path(_unescape_mount_field(parts[1])), parts[2]))
    return result


def is_mounted(mountpoint: Path) -> bool:
    target = Path(os.path.abspath(mountpoint))
    return any(point == target for point, _ in fuse_mounts())


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _umount(mountpoint: Path, lazy: bool) -> None:
    """Unmount with umount2(2) as root, else ``fusermount3 -u [-z]``. Raises OSError."""
    if os.geteuid() == 0:
        if _libc().umount2(os.fsencode(str(mountpoint)), MNT_DETACH if lazy else 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(mountpoint))
        return
    helper = shutil.which("fusermount3") or shutil.which("fusermount") or "fusermount"
    args = [helper, "-u", *(["-z"] if lazy else []), str(mountpoint)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(errno.EBUSY, done.stderr.strip() or "fusermount failed", str(mountpoint))


def unmount(mountpoint: Path) -> None:
    """Unmount ``mountpoint``; fall back to a lazy unmount when it is busy. Idempotent."""
    if not is_mounted(mountpoint):
        return
    try:
        _umount(mountpoint, lazy=False)
    except OSError as exc:
        if not is_mounted(mountpoint):  # libfuse unmounted it meanwhile (its loop ended)
            return
        log.warning("unmount of %s failed (%s); detaching lazily", mountpoint, exc.strerror)
        try:
            _umount(mountpoint, lazy=True)
        except OSError as lazy_exc:
            if is_mounted(mountpoint):
                raise MountFailed(f"could not unmount {mountpoint}: {lazy_exc.strerror}") from lazy_exc


def abort_connection(device: int) -> bool:
    """Abort a FUSE connection through fusectl so a hung filesystem returns ENOTCONN. Best effort."""
    if not FUSECTL.exists() or not any(FUSECTL.iterdir()):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["mount", "-t", "fusectl", "none", str(FUSECTL)], capture_output=True,
                           check=False, timeout=5)
    abort_file = FUSECTL / str(device) / "abort"
    try:
        abort_file.write_text("1")
        return True
    except OSError as exc:
        log.warning("could not abort FUSE connection %s: %s", device, exc)
        return False


def cleanup_stale_mounts(root: Path) -> list[Path]:
    """Unmount (lazily) every FUSE mount under ``root`` left by a killed process; return them."""
    base = Path(os.path.abspath(root))
    cleaned = []
    for point, _fstype in fuse_mounts():
        if point == base or base in point.parents:
            try:
                _umount(point, lazy=True)
                cleaned.append(point)
                log.info("removed stale FUSE mount %s", point)
            except OSError as exc:
                log.warning("could not remove stale FUSE mount %s: %s", point, exc.strerror)
    return cleaned


class LibfuseLog:
    """Route libfuse's own messages (``fuse_log``) to ``logging`` and keep the last few for diagnostics.

    Without this libfuse prints to stderr, e.g. ``fuse_remove_signal_handlers: unknown session`` when
    two mounts share a process. Formatting the ``va_list`` with ``vsnprintf`` relies on the x86-64
    calling convention, so elsewhere libfuse keeps printing to stderr.
    """

    recent: list[str] = []
    _callback: Any = None

    @classmethod
    def install(cls, libfuse: Any) -> None:
        if cls._callback is not None or platform.machine() not in ("x86_64", "AMD64"):
            return
        setter = getattr(libfuse, "fuse_set_log_func", None)
        if setter is None:  # libfuse2
            return
        libc = _libc()
        log_func = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

        def route(level: int, fmt: bytes, args: int) -> None:
            buffer = ctypes.create_string_buffer(2048)
            libc.vsnprintf(buffer, ctypes.c_size_t(len(buffer)), ctypes.c_char_p(fmt), ctypes.c_void_p(args))
            message = buffer.value.decode(errors="replace").strip()
            cls.recent = [*cls.recent[-9:], message]
            log.debug("libfuse[%d]: %s", level, message)

        cls._callback = log_func(route)
        setter(cls._callback)


def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """While mounted, make SIGTERM/SIGHUP raise (if nobody handles them) so ``finally`` unmounts."""
    installed: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.Signals.SIGTERM, signal.Signals.SIGHUP):
            if signal.getsignal(signum) == signal.SIG_DFL:
                installed[signum] = signal.signal(signum, _raise_system_exit)
    try:
        yield
    finally:
        for signum, previous in installed.items():
            with contextlib.suppress(ValueError):
                signal.signal(signum, previous)


def _tune_readahead(device: int, read_ahead_kb: int) -> None:
    """Set the kernel readahead of the mount's bdi (default 128 KiB: libfuse3 would get 128 KiB reads)."""
    bdi = Path(f"/sys/class/bdi/{os.major(device)}:{os.minor(device)}/read_ahead_kb")
    try:
        bdi.write_text(str(read_ahead_kb))
    except OSError as exc:  # not root, or no such bdi: the default window still works
        log.debug("could not set %s: %s", bdi, exc)


def _fuse_kwargs(options: MountOptions, libfuse_major: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"foreground": True, "fsname": options.fsname,
                              "nothreads": options.single_threaded}
    if libfuse_major == 3 and not options.single_threaded:
        kwargs["max_idle_threads"] = 8  # libfuse 3.14 logs a bogus error when this is left unset
    if options.read_only:
        kwargs["ro"] = True
    if options.allow_other:
        kwargs["allow_other"] = True
    kwargs.update(options.extra)
    return kwargs


def _wait_until_mounted(mountpoint: Path, thread: threading.Thread, failure: list[BaseException],
                        timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not is_mounted(mountpoint):
        if not thread.is_alive():
            cause = failure[0] if failure else None
            raise MountFailed(f"FUSE mount at {mountpoint} failed: {cause or 'the FUSE loop ended'}; "
                              f"{_diagnostics(options_hint=True)}") from cause
        if time.monotonic() > deadline:
            raise MountFailed(f"FUSE mount at {mountpoint} not ready after {timeout:.1f}s; "
                              f"{_diagnostics(options_hint=False)}")
        time.sleep(READY_POLL_S)


def _diagnostics(options_hint: bool) -> str:
    notes = []
    if not Path("/dev/fuse").exists():
        notes.append("/dev/fuse is missing (load the fuse module or pass --device /dev/fuse)")
    if not (shutil.which("fusermount3") or shutil.which("fusermount")):
        notes.append("fusermount3 is not installed (apt-get install fuse3)")
    if options_hint and os.geteuid() != 0:
        conf = Path("/etc/fuse.conf")
        allowed = conf.exists() and "\nuser_allow_other" in "\n" + conf.read_text()
        if not allowed:
            notes.append("allow_other needs `user_allow_other` in /etc/fuse.conf for non-root users")
    if LibfuseLog.recent:
        notes.append("libfuse said: " + " | ".join(LibfuseLog.recent[-3:]))
    return "; ".join(notes) or "check the log for the FUSE loop's error"


@contextlib.contextmanager
def fuse_mount(operations: Any, mountpoint: Path, options: MountOptions | None = None,
               ready_timeout: float = 10.0) -> Iterator[MountHandle]:
    """Mount ``operations`` (an mfusepy ``Operations``) at ``mountpoint`` until the block exits."""
    from mounts.fuse.binding import mfusepy  # loads libfuse3 (or raises MountFailed): only when mounting
    from mounts.fuse.plus import PlusFUSE  # subclasses mfusepy's FUSE: loads libfuse3 like the line above

    options = options or MountOptions()
    LibfuseLog.install(mfusepy._libfuse)
    if mfusepy.fuse_version_major != 3:
        log.warning("mfusepy loaded libfuse%d (imported before mounts.fuse.binding chose libfuse3): "
                    "reads are capped at 128 KiB", mfusepy.fuse_version_major)
    mountpoint = Path(os.path.abspath(mountpoint))
    mountpoint.mkdir(parents=True, exist_ok=True)
    if is_mounted(mountpoint):
        raise MountFailed(f"{mountpoint} is already a FUSE mount; unmount it first")
    failure: list[BaseException] = []

    def run_loop() -> None:
        try:
            PlusFUSE(operations, str(mountpoint), **_fuse_kwargs(options, mfusepy.fuse_version_major))
        except BaseException as exc:  # noqa: BLE001 - reported by the waiting thread
            failure.append(exc)
            log.error("FUSE loop for %s ended with %r", mountpoint, exc)

    with _signals_unwind():
        thread = threading.Thread(target=run_loop, name=f"fuse:{mountpoint.name}", daemon=True)
        thread.start()
        device = 0
        try:
            _wait_until_mounted(mountpoint, thread, failure, ready_timeout)
            device = os.stat(mountpoint).st_dev
            _tune_readahead(device, options.read_ahead_kb)
            log.debug("mounted %s (device %d:%d)", mountpoint, os.major(device), os.minor(device))
            handle = MountHandle(mountpoint, device)
            try:
                yield handle
            finally:
                handle.ended_early = not thread.is_alive()
                if handle.ended_early:
                    log.info("the FUSE loop for %s had ended before the mount was released: %s",
                             mountpoint, failure[0] if failure else "its connection was cut or unmounted")
        finally:
            _stop(mountpoint, thread, device, options)


def _join(thread: threading.Thread, options: MountOptions) -> None:
    """Wait for the FUSE loop: ``unmount_timeout``, extended while the filesystem reports work."""
    is_busy = options.is_busy
    deadline = time.monotonic() + options.unmount_timeout
    while thread.is_alive():
        thread.join(0.05)
        if time.monotonic() > deadline and not (is_busy and is_busy()):
            return


def _stop(mountpoint: Path, thread: threading.Thread, device: int, options: MountOptions) -> None:
    """Unmount, wait for the FUSE loop to end, abort the connection if it does not."""
    try:
        unmount(mountpoint)
    finally:
        _join(thread, options)
        if thread.is_alive() and device:
            # Still referenced elsewhere (e.g. a container's mount namespace): cut the connection.
            log.warning("FUSE loop for %s still running after unmount; aborting the connection", mountpoint)
            abort_connection(device)
            thread.join(options.unmount_timeout)
        if thread.is_alive():
            log.error("FUSE loop for %s did not end", mountpoint)
