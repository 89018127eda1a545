"""The process backend: the command runs as a host subprocess (``bash -c``) with host paths.

For machines without Docker (``compute: local-process`` or ``--backend process``). Materialization is the
same as for containers; the plan's ``host_command`` names host paths, rewritten to where each binding's
data really is (``data/`` under the job directory, a local datastore path used in place, a FUSE mount).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from runner.backends.base import Capabilities, PreparedImage, RunSpec
from runner.backends.inherited_env import inherited
from runner.backends.job_tree import (
    KILL_WAIT_S,
    MARK_ENV,
    JobCgroup,
    carries_either,
    kill_marked,
    limit_tagger,
    new_mark,
    proc_stat,
    start_ticks,
    started_at,
)
from runner.backends.reaper import UNPINNED, Reaper, pin, reap, unpin
from runner.errors import BackendError, ContainerError
from runner.plan.types import RunPlan

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37  # <linux/prctl.h>
_LIVE: set[int] = set()  # the commands running in this process: another job's tree is never a leftover
_SUBREAPER = threading.Lock()  # held while _LIVE changes with the subreaper flag
_ADOPTING: list[bool] = [False]  # whether this module made this process a subreaper (never undo a caller's)


def host_path_pairs(spec: RunSpec) -> list[tuple[str, str]]:
    """(planned host path, where the data really is) for each binding materialized elsewhere.

    The plan renders host paths as ``<job_dir>/inputs/<name>[/<basename>]``; strategies put the data
    under that folder (``data/``, ``mnt/``) or use a local datastore path in place. Longest first.
    """
    pairs = []
    for binding in spec.plan.bindings:
        actual = spec.host_paths.get(binding.key)
        if not actual:
            continue
        planned = binding.host_value if Path(actual).is_file() else binding.host_path
        if planned != actual:
            pairs.append((planned, actual))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def substitute_paths(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace each planned path (as a whole path, or a prefix followed by ``/``) with the actual one."""
    for planned, actual in pairs:
        text = re.compile(re.escape(planned) + r"(?![\w.\-])").sub(actual.replace("\\", "\\\\"), text)
    return text


def host_env(spec: RunSpec) -> dict[str, str]:
    """The runner's environment but what a job must not inherit (``runner.backends.inherited_env``: other
    runs' ``AZUREML_*``, credentials, runner's own settings) + the plan's host env (paths where the data
    really is) + the lifecycle's env."""
    plan = spec.plan
    pairs = host_path_pairs(spec)
    if plan.host_env:
        planned_env = dict(plan.host_env)
    else:  # a plan without host_env: swap container values for host values
        swap = {b.value: b.host_value for b in plan.bindings}
        planned_env = {key: swap.get(value, value) for key, value in plan.env.items()}
    env = inherited(os.environ)
    env.update({key: substitute_paths(value, pairs) for key, value in planned_env.items()})
    env.update(spec.env)
    return env


class ProcessBackend:
    """Runs plans as host subprocesses in their own process group."""

    name = "process"
    capabilities = Capabilities(
        read_only_binds=False,
        in_container=False,
        host_process_group=True,
        docker_args=False,
        gpus=False,
        network_isolation=False,
    )

    def check(self, plan: RunPlan) -> None:
        return None  # a host process takes any plan (docker_args and GPUs do not apply)

    def prepare_image(self, plan: RunPlan) -> PreparedImage:
        shell = shutil.which("bash") or shutil.which("sh")
        if shell is None:
            raise BackendError("neither bash nor sh is on PATH", hint="install bash")
        return PreparedImage(name="host", id="", shell=shell)

    def start(self, spec: RunSpec, image: PreparedImage) -> ProcessRun:
        cwd = spec.plan.code_dir or os.getcwd()
        command = substitute_paths(spec.plan.host_command, host_path_pairs(spec))
        before = set(descendants(os.getpid()))  # the runner's own (mount daemons): never a job's leftover
        mark = new_mark()  # what the command starts carries it (``runner.backends.job_tree``)
        env = {**host_env(spec), MARK_ENV: mark}
        cgroup = JobCgroup.create(mark)  # all the command starts, in one cgroup: no subreaper needed
        with _SUBREAPER:
            if cgroup is None:
                _start_adopting()  # what leaves the command's session comes back here
            try:
                proc = subprocess.Popen(  # noqa: S603 - the user's command, as with `az ml job create`
                    [image.shell, "-c", command], cwd=cwd, env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    start_new_session=True,  # in its cgroup, else tagged for the reaper (``limit_tag``)
                    preexec_fn=cgroup.join if cgroup else limit_tagger(mark))  # noqa: PLW1509
            except (OSError, subprocess.SubprocessError) as exc:
                _no_longer_adopting()
                if cgroup is not None:
                    cgroup.kill()
                raise ContainerError(f"could not start the job's process: {exc}") from exc
            _LIVE.add(proc.pid)
        return ProcessRun(proc, before, cgroup=cgroup, mark=mark)

    def remove_leftovers(self, labels: Mapping[str, str], log_to: BinaryIO | None = None) -> list[str]:
        return []  # processes are killed through their recorded process group (see ``kill_group``)

    def reattach(self, ident: str, log_offset: int = 0) -> None:
        return None  # its output went through a pipe to the runner that died: nothing left to follow


def kill_group(pid: int, sig: signal.Signals = signal.SIGKILL) -> bool:
    """Signal a leftover job process group (recovery, the watchdog); True when something was signalled."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _start_adopting() -> None:
    """With ``_SUBREAPER`` held: make this process a subreaper, unless it is one already: the flag of a
    caller that made itself one (a supervisor, a script using the API) is its own, never turned off here."""
    if not _ADOPTING[0] and is_subreaper() is False:
        _ADOPTING[0] = set_subreaper(True)


def _no_longer_adopting() -> None:
    """With ``_SUBREAPER`` held: no job runs, orphans of what this process runs besides go to init again."""
    if _ADOPTING[0] and not _LIVE:
        _ADOPTING[0] = not set_subreaper(False)


def set_subreaper(on: bool) -> bool:
    """Make this process a child subreaper (Linux) while it runs job commands: a job's process that
    leaves its process group (``setsid``, a double fork, ``nohup … &``) is reparented here, not to init,
    so it can be found and stopped (``ProcessRun.stop_leftovers``). False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def is_subreaper() -> bool | None:
    """Whether this process is a child subreaper (Linux); None where that cannot be told."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        flag = ctypes.c_int(0)
        if int(ctypes.CDLL(None, use_errno=True).prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)):
            return None
    except (OSError, AttributeError):
        return None
    return bool(flag.value)


def descendants(root: int, proc: Path = Path("/proc")) -> list[int]:
    """Every live descendant of ``root`` (children first), by the ``PPid`` of each process in ``proc``
    (``/proc/<pid>/task/*/children`` needs a kernel option this cannot count on)."""
    return _subtree(_children(proc), root)


def _children(proc: Path = Path("/proc"), started: dict[int, int] | None = None) -> dict[int, list[int]]:
    """Parent pid -> its live (not zombie: a zombie is reaped, not signalled) children's pids; and in
    ``started``, pid -> when it started (``job_tree.started_at``): which process it was."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(proc):
        fields = proc_stat(entry.path) if entry.name.isdigit() else None  # None: ended while scanned
        if fields is not None and len(fields) > 1 and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            if started is not None:
                started[int(entry.name)] = started_at(fields)
    return children


def _session_of(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The session ``pid`` is in (None: it ended)."""
    try:
        return int((proc_stat(str(proc / str(pid))) or [])[3])
    except (IndexError, ValueError):
        return None


def _subtree(children: dict[int, list[int]], root: int) -> list[int]:
    found: list[int] = []
    queue = [root]
    while queue:
        kids = children.get(queue.pop(0), [])
        found += kids
        queue += kids
    return found


class ProcessRun:
    """A started host process (leader of its own process group)."""

    network = "the host's network: a host process has no network of its own"

    def __init__(self, proc: subprocess.Popen[bytes], before: Collection[int] = (), *,
                 cgroup: JobCgroup | None = None, mark: str = "") -> None:
        self.proc, self._before, self.cgroup, self.mark = proc, frozenset(before), cgroup, mark
        # a subreaper (no cgroup): what the command left its session with and ended is reaped here
        self._reaper = Reaper(mark, proc.pid) if cgroup is None and mark else None
        self._since = max(0, start_ticks(f"/proc/{proc.pid}"))  # none of the job's started before it

    @property
    def process_tree(self) -> dict[str, str | None]:
        """What finds the job's processes once its runner died (``job_tree.stop_recorded``)."""
        return {"cgroup": self.cgroup.path if self.cgroup else None, "mark": self.mark}

    @property
    def ident(self) -> str:
        return str(self.proc.pid)

    def logs(self) -> Iterator[bytes]:
        stream = self.proc.stdout
        if stream is None:
            return
        while chunk := os.read(stream.fileno(), 65536):
            yield chunk

    def wait(self) -> int:
        code = self.proc.wait()
        return code if code >= 0 else 128 - code  # a signal N becomes 128+N, as in a shell

    def end_reason(self) -> str | None:
        return None  # a host process has no memory limit of its own; a SIGKILL tells no more

    def stop(self, grace_s: float) -> None:
        if self.proc.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def remove(self) -> None:
        if self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait()
        self._signal(signal.SIGKILL)  # what it left in its group (``cmd &``) ends with it
        with _SUBREAPER:
            _LIVE.discard(self.proc.pid)
        if self.proc.stdout:
            self.proc.stdout.close()

    def stop_leftovers(self, keep: Collection[int] = ()) -> int:
        """After ``remove``: SIGKILL what the command started that still runs outside its process group:
        all that is left in its cgroup, else (reparented here by ``set_subreaper``) and reaped here, but
        the runner's own processes (those from before the start, ``keep``: the watchdog) and other
        running commands. How many were killed."""
        with _SUBREAPER:
            _LIVE.discard(self.proc.pid)
        try:
            if self.cgroup is None:
                return self._stop_adopted(keep)
            # and what moved itself out of the cgroup (root may), or was never in it (``join`` failed)
            killed = self.cgroup.kill() + kill_marked(self.mark, since=self._since)
            if killed:
                log.warning("stopped %d process(es) the job's command left running", killed)
            return killed
        finally:
            if self._reaper is not None:
                self._reaper.close()  # and the last of the adopted that ended by themselves
            with _SUBREAPER:
                _no_longer_adopting()

    def _stop_adopted(self, keep: Collection[int]) -> int:
        me, killed, theirs = os.getpid(), set(), {self.proc.pid}  # theirs: the job's sessions
        for _ in range(100):  # a process forking as it is killed: its children come back next round
            started: dict[int, int] = {}
            children, spared = _children(started=started), {*self._before, *keep, *_LIVE}
            spared |= {pid for root in spared for pid in _subtree(children, root)}
            mine = [pid for pid in _subtree(children, me) if pid not in spared]
            left = self._the_jobs(mine, started, theirs)
            if not left:
                break
            # the caller may reap one (its own wait()) and start a child that gets its pid: each is
            # pinned and checked (``pin``), and only the pinned one is killed and reaped
            pins = {pid: fd for pid in left if (fd := pin(pid, _is(started[pid]))) is not None}
            try:
                for pid, pinned in pins.items():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        if pinned == UNPINNED:
                            os.kill(pid, signal.SIGKILL)
                        else:
                            signal.pidfd_send_signal(pinned, signal.SIGKILL)
                    killed.add(pid)
                for pid, pinned in pins.items():  # reparented here (a subreaper): reaped here, or zombies
                    reap(pid, pinned, _is(started[pid]), wait_s=KILL_WAIT_S)
            finally:
                for pinned in pins.values():
                    unpin(pinned)
        if killed:
            log.warning("stopped %d process(es) the job's command left running: %s", len(killed),
                        ", ".join(map(str, sorted(killed))))
        return len(killed)

    def _the_jobs(self, pids: list[int], started: Mapping[int, int], theirs: set[int]) -> list[int]:
        """Those of ``pids`` (this process's descendants, not the runner's own) that are the job's: they
        carry its mark or ``limit_tag``, or the reaper saw them carry it (as started when ``started``).
        A caller's own processes (in any session, ``start_new_session`` too) carry neither: never a
        leftover. Either mark can be cleared by the process itself (``carries_either``): the belt is its
        session, which it cannot leave but for one of its own (``setsid``), so one in the command's
        session or in a session a marked process is in (``theirs``, kept from round to round: a child is
        killed once its parent was) is the job's too. What clears both marks before a scan saw it, alone
        in a session of its own, is not told from a caller's: only a cgroup holds it."""
        seen = self._reaper.adopted if self._reaper is not None else {}
        sessions = {pid: _session_of(pid) for pid in pids}
        marked = {pid for pid in pids if carries_either(pid, self.mark) or seen.get(pid) == started[pid]}
        theirs |= {sid for pid in marked if (sid := sessions[pid]) is not None and sid != os.getsid(0)}
        return [pid for pid in pids if pid in marked or sessions[pid] in theirs]


def _is(started: int) -> Callable[[list[bytes]], bool]:
    """``pin``'s and ``reap``'s check that a pid is still the process a scan found: its start time."""
    return lambda fields: started_at(fields) == started
