"""The process backend: the command runs as a host subprocess (``bash -c``) with host paths.

For machines without Docker (``compute: local-process`` or ``--backend process``). Materialization is the
same as for containers; the plan's ``host_command`` names host paths, rewritten to where each binding's
data really is (``data/`` under the job directory, a local datastore path used in place, a FUSE mount).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from runner.backends.base import Capabilities, PreparedImage, RunSpec
from runner.backends.inherited_env import inherited
from runner.errors import BackendError, ContainerError
from runner.plan.types import RunPlan

log = logging.getLogger(__name__)


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
        try:
            proc = subprocess.Popen(  # noqa: S603 - the user's command, as with `az ml job create`
                [image.shell, "-c", command], cwd=cwd, env=host_env(spec),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
        except OSError as exc:
            raise ContainerError(f"could not start the job's process: {exc}") from exc
        return ProcessRun(proc)

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


class ProcessRun:
    """A started host process (leader of its own process group)."""

    network = "the host's network: a host process has no network of its own"

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
        if self.proc.stdout:
            self.proc.stdout.close()
