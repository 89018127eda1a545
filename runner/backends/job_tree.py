"""All of a process job's processes, whatever session or process group they moved to (``setsid``, a
double fork, ``nohup … &``), so that none outlives the job, nor its runner when that is SIGKILLed.

Two ways, the first that works (measured on Debian 12, kernel 6.x, root, cgroup v2 as the unified
hierarchy of a hybrid mount: a cgroup is made, joined and killed whole in ~10 ms):

* **a cgroup v2 of its own** (``JobCgroup``): made under the runner's own cgroup, joined by the job's
  first process before it runs the command (so nothing it starts can be missed); what the command
  starts stays in it unless it has the rights to move itself out, and ``cgroup.kill`` (Linux 5.14)
  kills them all at once, forking or not. The runner is then no subreaper: what escapes the session is
  reparented to init, which reaps it, never to an in-process caller (``runner.api``), where it would
  stay a zombie. Needs root, or a delegated cgroup; off with ``RUNNER_JOB_CGROUP=0``.
* **else a mark** (``MARK_ENV`` in the job's environment, a random token): the runner is a child
  subreaper while it runs job commands (``runner.backends.process.set_subreaper``), ``Reaper`` reaps
  the adopted processes that end while the job runs, but only those (never a blanket ``waitpid(-1)``:
  the caller's own children are the caller's), and what carries the mark at the job's end, or, the
  runner killed, its watchdog, is killed. A zombie's environment is gone: one that ended before a scan
  saw it is told by a second mark, ``limit_tag``, a resource limit of no effect the job's first process
  sets and everything it starts inherits. A process may clear both (``carries_either``).

The record keeps ``record()`` (``extra.process_tree``): the watchdog and recovery stop what is left
with ``stop_recorded``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import secrets
import select
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MARK_ENV = "RUNNER_JOB_MARK"
CGROUP_ENV = "RUNNER_JOB_CGROUP"  # "0": no cgroup even where one could be made
KILL_WAIT_S = 10.0  # a killed process in uninterruptible sleep (a dead FUSE mount) may take this long
_CHUNK = 65536
_TAG_LIMIT = "Max realtime timeout"  # RLIMIT_RTTIME's line in /proc/<pid>/limits
UNPINNED = -1  # what ``pin`` gives without pidfds


def new_mark() -> str:
    return secrets.token_hex(8)


def cgroup2_root(mountinfo: Path = Path("/proc/self/mountinfo")) -> str | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup``, or ``…/unified`` when hybrid)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                before, _, after = line.partition(" - ")
                if after.split(" ", 1)[0] == "cgroup2":
                    return before.split()[4]
    except OSError:
        return None
    return None


def own_cgroup(cgroup_file: Path = Path("/proc/self/cgroup")) -> str | None:
    """This process's cgroup v2 path (the ``0::`` line)."""
    try:
        with open(cgroup_file, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        return None
    return None


class JobCgroup:
    """A cgroup v2 a job's first process joins (``join``, its ``preexec_fn``) and everything it starts
    inherits; ``kill`` ends them all and removes it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._procs = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)

    @classmethod
    def create(cls, mark: str) -> JobCgroup | None:
        """A new cgroup under this process's own; None where none can be made (not root, no cgroup v2,
        read-only, a kernel without ``cgroup.kill``, or switched off)."""
        root, own = cgroup2_root(), own_cgroup()
        if os.environ.get(CGROUP_ENV, "1") == "0" or root is None or own is None:
            return None
        path = os.path.join(root + own.rstrip("/"), f"runner-job-{mark}")
        try:
            os.mkdir(path)
        except OSError as exc:
            log.debug("no cgroup for the job (%s): its processes are tracked by a mark", exc)
            return None
        try:
            if not os.path.exists(os.path.join(path, "cgroup.kill")):
                raise OSError("this kernel's cgroups cannot kill all their processes (cgroup.kill)")
            return cls(path)
        except OSError as exc:
            log.debug("no cgroup for the job (%s): its processes are tracked by a mark", exc)
            with contextlib.suppress(OSError):
                os.rmdir(path)
            return None

    def join(self) -> None:
        """Run in the job's first process between fork and exec: only ``os.write``, no lock, no import.
        Failing, the job runs outside the cgroup: its mark still finds it."""
        with contextlib.suppress(OSError):
            os.write(self._procs, b"0")

    def close(self) -> None:
        if self._procs >= 0:
            os.close(self._procs)
            self._procs = -1

    def kill(self) -> int:
        """SIGKILL every process in the cgroup, wait (bounded) until it is empty, remove it. How many
        there were."""
        self.close()
        return kill_cgroup(self.path)


def cgroup_pids(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as lines:
            return [int(line) for line in lines if line.strip()]
    except (OSError, ValueError):
        return []


def kill_cgroup(path: str) -> int:
    """See ``JobCgroup.kill``; 0 when the cgroup is gone already."""
    if not os.path.isdir(path):
        return 0
    found = len(cgroup_pids(path))
    try:
        with open(os.path.join(path, "cgroup.kill"), "w", encoding="ascii") as kill:
            kill.write("1")
    except OSError as exc:
        log.warning("could not kill the job's processes in %s: %s", path, exc)
        return found
    deadline = time.monotonic() + KILL_WAIT_S
    while _populated(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        os.rmdir(path)
    except OSError as exc:  # still populated (a process stuck in the kernel): left for the next kill
        log.warning("the job's cgroup %s could not be removed: %s", path, exc)
    return found


def _populated(path: str) -> bool:
    try:
        with open(os.path.join(path, "cgroup.events"), encoding="ascii") as events:
            return any(line.split() == ["populated", "1"] for line in events)
    except OSError:
        return False


def carries_mark(pid: int, mark: str, proc: Path = Path("/proc")) -> bool:
    """Whether process ``pid``'s environment holds ``MARK_ENV=mark`` (read in chunks: an environment
    may be large). False for a zombie (no environment left) or one this user may not read."""
    needle, tail = f"{MARK_ENV}={mark}\0".encode(), b"\0"
    try:
        with open(proc / str(pid) / "environ", "rb") as environ:
            while chunk := environ.read(_CHUNK):
                if b"\0" + needle in tail + chunk:
                    return True
                tail = chunk[-len(needle):]
    except OSError:
        return False
    return False


def marked(mark: str, proc: Path = Path("/proc"), since: int = 0) -> list[int]:
    """The live processes carrying ``mark`` (never this one). With ``since`` (the job's first process's
    start, ``start_ticks``), only the environment of those started since is read (none of the job's
    started before it): 11-13 ms instead of 20-34 with 480 processes here."""
    me, found = os.getpid(), []
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        if (not since or start_ticks(entry.path) >= since) and carries_mark(int(entry.name), mark, proc):
            found.append(int(entry.name))
    return found


def start_ticks(path: str) -> int:
    """When process ``<path>`` (``/proc/<pid>``) started, in clock ticks since boot; -1 when it ended."""
    return started_at(fields) if (fields := proc_stat(path)) is not None else -1


def started_at(fields: list[bytes]) -> int:
    """``proc_stat``'s start time, in clock ticks since boot (with the pid: which process it is; the one
    form the reaper and the leftovers keep); -1 where none."""
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return -1


def kill_marked(mark: str, since: int = 0) -> int:
    """SIGKILL every process carrying ``mark`` (``since``: see ``marked``), round after round while some
    fork; how many."""
    killed: set[int] = set()
    for _ in range(100):
        left = [pid for pid in marked(mark, since=since) if pid not in killed or _running(pid)]
        if not left:
            break
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.02)
    return len(killed)


def limit_tag(mark: str) -> int:
    """A job's second mark, for a zombie (whose environment is gone but whose limits stay): the soft
    ``RLIMIT_RTTIME`` (CPU microseconds a real-time scheduled process may use without blocking) as a
    number past 2**62 (146,000 years: no limit in effect) that ``mark`` makes its own."""
    return (1 << 62) + (int(mark, 16) >> 4)  # < 2**63: what any rlim_t takes


def limit_tagger(mark: str) -> Callable[[], None] | None:
    """The ``preexec_fn`` that sets ``limit_tag(mark)`` in the job's first process (its children
    inherit it, ``exec`` keeps it); None where this process's own limit is not unlimited (the tag would
    change what the job may do)."""
    if resource.getrlimit(resource.RLIMIT_RTTIME) != (resource.RLIM_INFINITY, resource.RLIM_INFINITY):
        return None
    limits = (limit_tag(mark), resource.RLIM_INFINITY)

    def tag() -> None:  # between fork and exec: no lock, no import
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_RTTIME, limits)
    return tag


def carries_tag(pid: int, mark: str, proc: Path = Path("/proc")) -> bool:
    """Whether process ``pid`` (a zombie too) has ``limit_tag(mark)``."""
    try:
        with open(proc / str(pid) / "limits", encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith(_TAG_LIMIT):
                    return line[len(_TAG_LIMIT):].split()[:1] == [str(limit_tag(mark))]
    except OSError:
        return False
    return False


def carries_either(pid: int, mark: str) -> bool:
    """Whether ``pid`` carries ``mark`` or its ``limit_tag``. The process may clear either itself: an
    empty environment (``env -i``), another soft limit (``ulimit -R``: its hard limit stays unlimited)."""
    return bool(mark) and (carries_mark(pid, mark) or carries_tag(pid, mark))


def _running(pid: int) -> bool:
    fields = proc_stat(f"/proc/{pid}")
    return fields is not None and len(fields) > 0 and fields[0] not in (b"Z", b"X")


def proc_stat(path: str) -> list[bytes] | None:
    """The fields of ``<path>/stat`` (``/proc/<pid>``) after the process's name, its state first
    (``os.read``: 4x faster than ``open``); None when it ended while read."""
    try:
        stat = os.open(os.path.join(path, "stat"), os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.read(stat, 4096).rsplit(b")", 1)[1].split()  # the name may hold ") "
        finally:
            os.close(stat)
    except (OSError, IndexError):
        return None


def stop_recorded(tree: object) -> int:
    """Kill what is left of a job whose runner died, from its record's ``extra.process_tree``: only a
    cgroup this module names (``runner-job-<mark>`` in the cgroup v2 hierarchy) and a mark of its form,
    whatever the record says (it is a file in the workspace)."""
    if not isinstance(tree, dict) or not _is_mark(tree.get("mark")):
        return 0
    killed, root, path = 0, cgroup2_root(), tree.get("cgroup")
    if isinstance(path, str) and root is not None and os.path.basename(path) == f"runner-job-{tree['mark']}" \
            and os.path.realpath(path).startswith(os.path.realpath(root) + os.sep):
        killed += kill_cgroup(path)
    return killed + kill_marked(tree["mark"])


def _is_mark(mark: object) -> bool:
    return isinstance(mark, str) and len(mark) == 16 and all(c in "0123456789abcdef" for c in mark)


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
