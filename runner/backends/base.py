"""The backend protocol: run a ``RunPlan`` with a list of bind mounts, and nothing more.

A backend knows nothing about workspaces, registries or materialization: the job's run
(``runner.jobs.run``) materializes every binding, hands the backend the resulting ``BindMount`` list and
the extra environment, and drives the returned ``RunHandle`` (stream logs, wait with a timeout, stop
with a grace period, remove). What a backend can do is data (``Capabilities``): callers ask it, they
never compare backend names (``runner.backends.capabilities``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from runner.backends.capabilities import JOB_LABEL as JOB_LABEL
from runner.backends.capabilities import WORKSPACE_LABEL as WORKSPACE_LABEL
from runner.backends.capabilities import Capabilities as Capabilities  # a backend's module: from there
from runner.plan.types import RunPlan


@dataclass(frozen=True)
class BindMount:
    """A host path made visible to the job at ``container_path`` (read-only for inputs)."""

    host_path: str
    container_path: str
    read_only: bool


@dataclass(frozen=True)
class RunSpec:
    """What the lifecycle gives a backend beyond the plan: materialized paths, env, labels."""

    plan: RunPlan
    mounts: tuple[BindMount, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # may carry credentials (direct)
    labels: Mapping[str, str] = field(default_factory=dict)
    # binding key (``inputs/<name>``, ``outputs/<name>``) -> the host path its data really is at (may
    # differ from the plan's host_path, e.g. a local datastore bound in place); the process backend
    # renders the command with these.
    host_paths: Mapping[str, str] = field(default_factory=dict)
    # a file of the job's own the backend may write and bind as the container's /etc/hosts (the docker
    # backend, for a container with no network: ``runner.backends.container_args``)
    hosts_file: str | None = None


@dataclass(frozen=True)
class PreparedImage:
    """The image a job runs in, once known to exist locally (``id`` is empty for the process backend)."""

    name: str
    id: str
    shell: str  # absolute path of the shell the command runs under (bash when present, else sh)


class RunHandle(Protocol):
    """One started job run (a container or a host process)."""

    network: str  # the network the run got, and why (for the job record)

    @property
    def ident(self) -> str:
        """Container id or process id, recorded for recovery."""
        ...

    def logs(self) -> Iterator[bytes]:
        """Yield the merged stdout/stderr as it is produced; ends when the run ends."""
        ...

    def wait(self) -> int:
        """Block until the run ends and return its exit code."""
        ...

    def end_reason(self) -> str | None:
        """After ``wait``: what ended the run, when more is known than its exit code (the kernel
        killed it for memory); None otherwise."""
        ...

    def stop(self, grace_s: float) -> None:
        """Ask the run to stop (SIGTERM); kill it when it is still running after ``grace_s``."""
        ...

    def remove(self) -> None:
        """Release everything the run holds (remove the container). Idempotent."""
        ...


class Backend(Protocol):
    """An execution backend (docker, process)."""

    name: str
    capabilities: Capabilities

    def prepare_image(self, plan: RunPlan) -> PreparedImage:
        """Make sure the plan's image exists (build it from its context when needed)."""
        ...

    def check(self, plan: RunPlan) -> None:
        """Refuse (``SpecError``) what this backend cannot run, before the job is queued."""
        ...

    def start(self, spec: RunSpec, image: PreparedImage) -> RunHandle:
        """Create and start the run; it is running when this returns."""
        ...

    def remove_leftovers(self, labels: Mapping[str, str], log_to: BinaryIO | None = None) -> list[str]:
        """Remove runs left behind by a dead runner (matched by labels); return what was removed. With
        ``log_to`` (the job's log, open for appending), first append the output it does not hold yet."""
        ...

    def reattach(self, ident: str, log_offset: int = 0) -> RunHandle | None:
        """The run ``ident`` started by a runner that died, to watch it to its end (``runner.jobs.
        watchdog``), its ``logs()`` past the first ``log_offset`` bytes; None when it is gone or the
        backend cannot follow another process's run."""
        ...


def skip_bytes(chunks: Iterable[bytes], count: int) -> Iterator[bytes]:
    """``chunks`` without their first ``count`` bytes."""
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0


def append_new(chunks: Iterable[bytes], sink: BinaryIO) -> int:
    """Append ``chunks`` to ``sink`` as they come (flushed each time); return how many bytes."""
    written = 0
    for chunk in chunks:
        sink.write(chunk)
        sink.flush()
        written += len(chunk)
    return written

