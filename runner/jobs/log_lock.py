"""Who keeps a job's log (``user_logs/std_log.txt``) once its runner died: whoever holds a ``flock`` on it.

* The job's watchdog (``runner.jobs.watchdog``) holds it for as long as it lives: the runner opens and
  locks the log as it starts the watchdog and hands it the open file (``lock_for_watchdog``), so from the
  moment the container runs until the watchdog let it go (it followed the container to its end and
  released it) or died (the kernel lets go), the lock says "the watchdog keeps this job". Recovery then
  leaves the job's container and its end to it (``held``, ``runner.jobs.recovery.recover``).
* Recovery appending what a dead runner's container printed after it holds it while it appends
  (``log_keeper``).
* A cancel of a job its watchdog follows stops the container and waits, bounded by ``LOG_WAIT_S``, until
  the watchdog appended what it printed, removed it and let the log go (``runner.jobs.takeover.
  cancel_beside_watchdog``); past the bound it removes the container itself (``removed_early``).
* Whoever copies the log into the job's artifacts (a recovery, a cancel, the watchdog's own end) waits,
  bounded by ``LOG_WAIT_S``, until nobody holds it, and holds it while copying (``quiet_log``): the copy
  has the last lines; past the bound it is copied anyway, and the caller says it may lack them.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# the one probe of a held log, shared with the pin sweep (``mounts.pin_record``): ``held(path)``, whether
# another process holds the log (a live watchdog, or a recovery appending or copying it)
from mounts.flock_probe import held as held

log = logging.getLogger(__name__)

# how long a copy waits for the log: a watchdog lets it go once the container ended and its last lines
# are in (``runner.jobs.supervise.LOG_DRAIN_S``, 10 s, at most), and its takeover first imports ~1 s
LOG_WAIT_S = 30.0


def lock_for_watchdog(path: Path) -> int:
    """The job's log opened for appending (created if need be) and locked, for the watchdog to inherit;
    -1 when it cannot be (no watchdog holds the job then: recovery does as for a dead one)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        log.warning("the job's watchdog cannot hold its log %s: %s", path, exc)
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        log.warning("the job's watchdog cannot hold its log %s: %s", path, exc)
        os.close(fd)
        return -1
    return fd


@contextlib.contextmanager
def log_keeper(path: Path, *, wait: bool) -> Iterator[BinaryIO | None]:
    """The job's log, opened for appending and locked, positioned at its end: one process at a time
    appends what a dead runner's container printed after it. None (``wait=False``) when another
    process holds it: the job's watchdog, which is following the container itself."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = open(path, "ab")  # noqa: SIM115 - closed below, after the lock is released
    except OSError as exc:
        log.warning("cannot append to %s: %s", path, exc)
        yield None
        return
    with sink:
        try:
            fcntl.flock(sink, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        sink.seek(0, os.SEEK_END)
        yield sink


@contextlib.contextmanager
def quiet_log(path: Path) -> Iterator[bool]:
    """Hold the job's log while it is copied: once nobody appends to it (waiting up to ``LOG_WAIT_S``),
    and so that nobody does until the copy is done. Yields False when it was still held at the end of
    the wait (the copy may lack the last lines), True otherwise (also when there is no log)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield True
        return
    taken = _lock_within(fd, LOG_WAIT_S)
    try:
        yield taken
    finally:
        if taken:
            os.close(fd)  # lets it go; not taken, the waiting thread owns it (``_lock_within``)


def let_go_within(path: Path) -> bool:
    """Wait, bounded by ``LOG_WAIT_S``, until nobody holds the job's log; whether nobody does then."""
    with quiet_log(path) as quiet:
        return quiet


def copied_early(path: Path) -> str:
    """What the record says of a log copied while another process still held it (``quiet_log``)."""
    return (f"another process (the job's watchdog) still held its log after {LOG_WAIT_S:g} s: the copy in "
            f"its artifacts may lack its last lines; the whole log is {path}")


def removed_early(path: Path) -> str:
    """What the record of a cancel says when the job's watchdog still held its log once the wait was over:
    the cancel removed the container itself (``runner.jobs.takeover.cancel_beside_watchdog``)."""
    return (f"the job's watchdog still held its log {LOG_WAIT_S:g} s after the cancel stopped its container, "
            f"so the cancel removed the container itself: what it printed after its runner died may be "
            f"missing from {path}")


def _lock_within(fd: int, timeout: float) -> bool:
    """``flock(fd)`` exclusively, waiting at most ``timeout`` seconds. Python cannot bound a blocking
    ``flock``: a thread waits for it; given up on, that thread closes ``fd`` once it gets the lock (or
    the process ends), so the lock is never kept."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    except OSError:  # no lock to be had here at all (ENOLCK): nobody can hold it either
        return True
    guard, got, given_up = threading.Lock(), threading.Event(), threading.Event()

    def take() -> None:
        with contextlib.suppress(OSError):  # no lock to be had at all: nothing more to wait for
            fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if given_up.is_set():
                os.close(fd)
            else:
                got.set()

    threading.Thread(target=take, name="log-lock", daemon=True).start()
    got.wait(timeout)
    with guard:
        if not got.is_set():
            given_up.set()
    return got.is_set()
