"""The process backend: the command runs as a host subprocess (``bash -c``) with host paths.

For machines without Docker (``compute: local-process`` or ``--backend process``). Materialization is the
same as for containers; the plan's ``host_command`` already names host paths, and bindings whose data
sits elsewhere than the plan's host path (a local datastore used in place) are linked into place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from runner.backends.base import PreparedImage, RunSpec
from runner.errors import BackendError, ContainerError
from runner.plan_types import RunPlan

log = logging.getLogger(__name__)


def host_env(spec: RunSpec) -> dict[str, str]:
    """os.environ + plan env with container paths swapped for host paths, + the lifecycle's env."""
    plan = spec.plan
    swap = {b.value: b.host_value for b in plan.bindings if b.value != b.host_value}
    env = dict(os.environ)
    for key, value in plan.env.items():
        env[key] = swap.get(value, value)
    env.update(spec.env)
    return env


def link_bindings(spec: RunSpec) -> None:
    """Make each binding's planned host path show its data when materialization put it elsewhere."""
    for binding in spec.plan.bindings:
        actual = spec.host_paths.get(binding.name)
        if not actual or Path(actual) == Path(binding.host_path):
            continue
        planned = Path(binding.host_path)
        if planned.is_symlink() or (planned.is_dir() and not any(planned.iterdir())):
            planned.unlink() if planned.is_symlink() else planned.rmdir()
        if planned.exists():
            log.debug("binding %s: %s already exists; not linking", binding.name, planned)
            continue
        planned.parent.mkdir(parents=True, exist_ok=True)
        planned.symlink_to(actual, target_is_directory=Path(actual).is_dir())


class ProcessBackend:
    """Runs plans as host subprocesses in their own process group."""

    name = "process"

    def prepare_image(self, plan: RunPlan) -> PreparedImage:
        shell = shutil.which("bash") or shutil.which("sh")
        if shell is None:
            raise BackendError("neither bash nor sh is on PATH", hint="install bash")
        return PreparedImage(name="host", id="", shell=shell)

    def start(self, spec: RunSpec, image: PreparedImage) -> ProcessRun:
        link_bindings(spec)
        cwd = spec.plan.code_dir or os.getcwd()
        try:
            proc = subprocess.Popen(  # noqa: S603 - the user's command, as with `az ml job create`
                [image.shell, "-c", spec.plan.host_command], cwd=cwd, env=host_env(spec),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
        except OSError as exc:
            raise ContainerError(f"could not start the job's process: {exc}") from exc
        return ProcessRun(proc)

    def remove_leftovers(self, labels: Mapping[str, str]) -> list[str]:
        return []  # processes are killed through their recorded process group (see ``kill_group``)


def kill_group(pid: int) -> bool:
    """SIGKILL a leftover job process group (recovery); True when something was signalled."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class ProcessRun:
    """A started host process (leader of its own process group)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

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
        if self.proc.stdout:
            self.proc.stdout.close()
