"""What a backend can do (``Capabilities``) and the labels on a job's container: all that checking a job
(``job validate``) asks of a backend, apart from the protocol and the run's types (``runner.backends.base``,
which re-exports these), so that a backend's module loads without them until a job runs.
"""

from __future__ import annotations

from dataclasses import dataclass

JOB_LABEL = "runner.job"  # on a job's container: the job's name
WORKSPACE_LABEL = "runner.workspace"  # on a job's container: the workspace folder it belongs to


@dataclass(frozen=True)
class Capabilities:
    """What a backend does, so that the lifecycle can ask instead of comparing names."""

    in_container: bool  # the command sees container paths (/mnt/runner/...), not host paths
    read_only_binds: bool  # can make a host path read-only for the job (else it gets a read-only view)
    host_process_group: bool  # a run is a host process group (recovery kills it by pid and start time)
    docker_args: bool  # ``resources.docker_args`` apply (and are checked before a job is queued)
    gpus: bool  # ``resources.gpu_count`` becomes device requests
    network_isolation: bool  # the job gets no network unless a binding needs one
