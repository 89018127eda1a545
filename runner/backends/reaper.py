"""The subreaper's side of a process job without a cgroup of its own (``runner.backends.job_tree``: the
mark): ``Reaper`` reaps the job's adopted processes that end while it runs, and only those; ``pin`` and
``reap`` take one child of this process by a pidfd (else a check of its ``stat`` just before the
``waitpid``), so that a pid the caller reaped and reused is never waited for here.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path

from runner.backends.job_tree import carries_mark, carries_tag, proc_stat, start_ticks, started_at

UNPINNED = -1  # what ``pin`` gives without pidfds


class Reaper:
    """Without a cgroup the runner is a subreaper: what the job started and then left its session is
    its child, and once it ends, its zombie until reaped. This reaps those (``POLL_S``), and only
    those: a child of this process that carried the job's mark while it ran or carries its
    ``limit_tag`` (one that ended before a scan saw it), but the job's first process (``leader``: its
    ``Popen`` waits for it). The caller's own children have neither: they are never reaped here."""

    POLL_S = 0.5

    def __init__(self, mark: str, leader: int) -> None:
        self.mark, self._leader = mark, leader
        self.adopted: dict[int, int] = {}  # pid -> when it started (``start_ticks``): which process it was
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reap-adopted", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.POLL_S):
            self.reap()

    def reap(self) -> int:
        """Note the adopted children that run, reap those that ended; how many were reaped."""
        me, reaped = os.getpid(), 0
        for pid, state in own_children(me):
            if pid == self._leader:
                continue
            if state != b"Z":
                started = start_ticks(f"/proc/{pid}")
                if pid not in self.adopted and carries_mark(pid, self.mark) and started >= 0:
                    self.adopted[pid] = started
            elif pid in self.adopted or carries_tag(pid, self.mark):
                reaped += self._reap(pid, self.adopted.pop(pid, None))
        return reaped

    def _reap(self, pid: int, started: int | None) -> int:
        """Reap zombie ``pid`` if still the job's (``pin``: the one seen running, or tagged); 1 if reaped."""
        def is_it(fields: list[bytes]) -> bool:
            return fields[0] == b"Z" and (started_at(fields) == started or carries_tag(pid, self.mark))
        pinned = pin(pid, is_it)
        if pinned is None:
            return 0
        try:
            return reap(pid, pinned, is_it)
        finally:
            unpin(pinned)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.reap()


def pin(pid: int, is_it: Callable[[list[bytes]], bool]) -> int | None:
    """Pin ``pid``, a child of this process, by a pidfd, then check it is still the one meant (``is_it``
    takes its ``stat`` fields: state, start time). The caller may reap it first (its own ``wait()``) and
    start a child that gets its pid: once pinned, only the pinned process is signalled or reaped. The
    pidfd (``unpin`` it), ``UNPINNED`` without pidfds (Linux < 5.3: checked just before use), None when
    it is not the one meant (ended, reaped, or its pid another's)."""
    try:
        pinned = os.pidfd_open(pid)
    except ProcessLookupError:
        return None  # reaped meanwhile
    except (OSError, AttributeError):
        pinned = UNPINNED
    fields = proc_stat(f"/proc/{pid}")
    if fields is not None and len(fields) > 19 and fields[1] == str(os.getpid()).encode() and is_it(fields):
        return pinned
    unpin(pinned)
    return None


def unpin(pinned: int) -> None:
    if pinned != UNPINNED:
        os.close(pinned)


def reap(pid: int, pinned: int, is_it: Callable[[list[bytes]], bool], wait_s: float = 0.0) -> int:
    """Reap ``pid``, a child ``pin`` gave ``pinned`` for (``wait_s``: one just SIGKILLed, waited for that
    long at most; 0: a zombie); 1 when reaped. By its pidfd, else (or a 5.3 kernel) once a zombie
    ``is_it`` (``pin``'s check) still takes for the one meant, by a ``waitpid`` that does not block:
    never a wait on another's pid."""
    if pinned != UNPINNED:
        if wait_s and not _ends_within(pinned, wait_s):
            return 0  # stuck in the kernel: found and killed again next round (as below)
        try:
            return int(os.waitid(os.P_PIDFD, pinned, os.WEXITED | os.WNOHANG) is not None)
        except ChildProcessError:
            return 0  # reaped meanwhile (the caller's own wait)
        except OSError:  # P_PIDFD unknown to this kernel (5.3): as without a pidfd
            pass
    me, deadline = str(os.getpid()).encode(), time.monotonic() + wait_s
    while (fields := proc_stat(f"/proc/{pid}")) is not None and fields[1:2] == [me] and is_it(fields):
        if fields[0] == b"Z":
            with contextlib.suppress(ChildProcessError):
                return int(os.waitpid(pid, os.WNOHANG)[0] == pid)
            return 0
        if time.monotonic() >= deadline:  # stuck in the kernel: found and killed again next round
            return 0
        time.sleep(0.01)
    return 0


def _ends_within(pinned: int, wait_s: float) -> bool:
    """Whether the process ``pinned`` refers to has ended, waiting ``wait_s`` at most (a pidfd is readable
    once its process ended): a killed process in uninterruptible sleep never blocks the caller."""
    poller = select.poll()
    poller.register(pinned, select.POLLIN)
    return bool(poller.poll(wait_s * 1000))


def own_children(me: int, proc: Path = Path("/proc")) -> list[tuple[int, bytes]]:
    """(pid, state) of each child of ``me``, zombies included (~8 ms for 135 processes here;
    ``/proc/PID/task/TID/children`` needs a kernel option)."""
    found = []
    for entry in os.scandir(proc):
        fields = proc_stat(entry.path) if entry.name.isdigit() else None
        if fields is not None and len(fields) > 1 and fields[1] == str(me).encode():
            found.append((int(entry.name), fields[0]))
    return found
