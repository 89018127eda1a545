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
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from runner.backends.base import Capabilities, PreparedImage, RunSpec
from runner.backends.inherited_env import inherited
from runner.errors import BackendError, ContainerError
from runner.plan.types import RunPlan

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
_LIVE: set[int] = set()  # the commands running in this process: another job's tree is never a leftover
_SUBREAPER = threading.Lock()  # held while _LIVE changes with the subreaper flag


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
        with _SUBREAPER:
            set_subreaper(True)  # what the command starts in a session of its own comes back here
            try:
                proc = subprocess.Popen(  # noqa: S603 - the user's command, as with `az ml job create`
                    [image.shell, "-c", command], cwd=cwd, env=host_env(spec),
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    start_new_session=True)
            except OSError as exc:
                if not _LIVE:
                    set_subreaper(False)
                raise ContainerError(f"could not start the job's process: {exc}") from exc
            _LIVE.add(proc.pid)
        return ProcessRun(proc, before)

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


def descendants(root: int, proc: Path = Path("/proc")) -> list[int]:
    """Every live descendant of ``root`` (children first), by the ``PPid`` of each process in ``proc``
    (``/proc/<pid>/task/*/children`` needs a kernel option this cannot count on)."""
    return _subtree(_children(proc), root)


def _children(proc: Path = Path("/proc")) -> dict[int, list[int]]:
    """Parent pid -> its live (not zombie: a zombie is reaped, not signalled) children's pids."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "stat"), "rb") as stat:
                fields = stat.read(4096).rsplit(b")", 1)[1].split()  # the name may hold ") "
        except (OSError, IndexError):
            continue  # ended while scanned
        if len(fields) > 1 and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _session_of(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The session ``pid`` is in (None: it ended)."""
    try:
        with open(proc / str(pid) / "stat", "rb") as stat:
            return int(stat.read(4096).rsplit(b")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
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

    def __init__(self, proc: subprocess.Popen[bytes], before: Collection[int] = ()) -> None:
        self.proc, self._before = proc, frozenset(before)

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
        """After ``remove``: SIGKILL and reap what the command started that still runs outside its
        process group (reparented here by ``set_subreaper``), but the runner's own processes (those
        from before the start, ``keep``: the watchdog) and other running commands. How many were killed."""
        me, mine, killed = os.getpid(), os.getsid(0), set()
        with _SUBREAPER:
            _LIVE.discard(self.proc.pid)
        for _ in range(100):  # a process forking as it is killed: its children come back next round
            children, spared = _children(), {*self._before, *keep, *_LIVE}
            spared |= {pid for root in spared for pid in _subtree(children, root)}
            # the job's command runs in a session of its own (and what leaves it, in another): a process
            # in this process's session is the caller's own (a script's subprocess), never a job's
            left = [pid for pid in _subtree(children, me) if pid not in spared and _session_of(pid) != mine]
            if not left:
                break
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            for pid in left:  # reparented here (a subreaper): reaped here, or they stay zombies
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        with _SUBREAPER:
            if not _LIVE:  # orphans of what this process runs besides jobs go to init again
                set_subreaper(False)
        if killed:
            log.warning("stopped %d process(es) the job's command left running: %s", len(killed),
                        ", ".join(map(str, sorted(killed))))
        return len(killed)
