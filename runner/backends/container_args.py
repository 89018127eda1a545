"""``container_args``: a ``RunPlan`` and its bind mounts to docker-py ``containers.create`` keyword
arguments, and the network the container gets (``choose_network``). Pure: no daemon (unit-tested as
docker-py's ``_create_container_args`` is). ``write_hosts_file`` writes the one file it may bind.

A container with no network is created with ``NetworkDisabled`` besides ``network_mode: none``: the
engine then makes no network sandbox for it (runc still gives it a network namespace of its own, with
only its loopback interface), which spares an engine before Docker 28 the prestart hook that starts a
copy of ``dockerd`` (``libnetwork-setkey``) for every container: about half of a container's start on a
2-core machine (``docker run --network none`` pays it: the CLI cannot ask for ``NetworkDisabled``).
Without the sandbox the engine writes no ``/etc/hosts``: the job's own file holding what the engine
writes on its ``none`` network is bound there, writable as Docker's is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runner.backends.capabilities import JOB_LABEL
from runner.backends.docker_args import gpu_device_requests, parse_docker_args
from runner.plan.network import NONE, RELAYED, PlannedNetwork, plan_network
from runner.plan.types import CONTAINER_WORKDIR, RunPlan

if TYPE_CHECKING:
    from runner.backends.base import BindMount, PreparedImage


def choose_network(planned: PlannedNetwork, default_network: str | None) -> tuple[str, str]:
    """The container's network and why, for the network its plan gets (``runner.plan.network``: what
    ``job validate`` prints): none; ``RELAYED`` (no network of its own, exactly its loopback stores relayed
    in); else the engine's default network, or the host's when the engine has none. Pure."""
    if planned.kind in (NONE, RELAYED):
        return planned.kind, planned.reason
    if default_network:
        return default_network, f"the engine's default network ({default_network}) for direct bindings"
    return "host", "host network: direct bindings reach their store, and the engine has no default network"


MERGED_STREAMS = 'exec "$0" -c "$1" 2>&1'
ETC_HOSTS = "/etc/hosts"
# what the engine writes as /etc/hosts for a container on its ``none`` network
NO_NETWORK_HOSTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                    "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")


def write_hosts_file(path: str) -> None:
    """``NO_NETWORK_HOSTS`` at ``path`` (made, or written over; a link there is not followed), readable by
    every user: the container's user may be another one (``--user``, an image's ``USER``)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask
        os.write(fd, NO_NETWORK_HOSTS.encode())
    finally:
        os.close(fd)


def container_args(
    plan: RunPlan,
    mounts: Sequence[BindMount],
    *,
    image: PreparedImage | None = None,
    env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    network: str | None = None,
    hosts_file: str | None = None,
) -> dict[str, Any]:
    """docker-py ``containers.create`` keyword arguments for ``plan`` with ``mounts`` bound. Pure. With
    no network and a ``hosts_file`` (see ``write_hosts_file``), no network sandbox (see the module)."""
    from docker.types import Mount

    shell = image.shell if image else "/bin/bash"
    extra = parse_docker_args(plan.resources.docker_args, allow_unsafe=plan.resources.unsafe_docker_args)
    environment = {**plan.env, **(env or {}), **extra.pop("environment", {})}
    kwargs: dict[str, Any] = {
        "image": image.id if image and image.id else plan.image,
        # `shell -c COMMAND` with its stderr sent to its stdout first: one pipe keeps the order lines
        # were written in (Docker copies a container's two pipes to its log separately, and reorders
        # them); the command still runs as `shell -c COMMAND` ($0 is the shell), as with the process
        # backend (stderr=STDOUT)
        "entrypoint": [shell, "-c", MERGED_STREAMS, shell],
        "command": [plan.command],
        "working_dir": plan.working_dir or CONTAINER_WORKDIR,
        "environment": environment,
        "labels": {JOB_LABEL: plan.job_name, **(labels or {})},
        "mounts": [Mount(target=m.container_path, source=m.host_path, type="bind", read_only=m.read_only)
                   for m in mounts],
        "network_mode": network or choose_network(plan_network(plan), None)[0],
        "init": True,  # docker-init as PID 1 forwards SIGTERM, so a stop ends the job within the grace
        "detach": True,
    }
    if kwargs["network_mode"] == RELAYED:  # with no relay given (a pure call): no network at all
        kwargs["network_mode"] = "none"
    if kwargs["network_mode"] == "none" and hosts_file:
        kwargs["network_disabled"] = True  # still a network namespace of its own: see the module
    if hosts_file and (kwargs["network_mode"] == "none" or kwargs["network_mode"].startswith("container:")):
        kwargs["mounts"].append(Mount(target=ETC_HOSTS, source=hosts_file, type="bind", read_only=False))
    if plan.resources.shm_size:
        kwargs["shm_size"] = plan.resources.shm_size
    if plan.resources.gpu_count or plan.resources.gpu_ids:
        kwargs["device_requests"] = gpu_device_requests(plan.resources.gpu_count, plan.resources.gpu_ids)
    for key, value in extra.items():  # docker_args win over resources (they are more specific)
        kwargs[key] = value
    return kwargs
