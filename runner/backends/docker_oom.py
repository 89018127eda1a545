"""Whether the kernel killed a job's container for memory, in the engine's words (``State.OOMKilled``)
and with its limit (``HostConfig.Memory``): "ran out of memory", not "exit 137"."""

from __future__ import annotations

import time
from typing import Any

RETRIES = 10  # the engine may learn of the OOM a moment after the exit: a SIGKILLed command is asked
RETRY_S = 0.1  # for up to a second


def oom_reason(api: Any, container_id: str, *, killed: bool) -> str | None:
    """Why the container's command ended when it was killed for memory; None otherwise. ``api`` is
    docker-py's low-level client; ``killed``: the command ended by SIGKILL (137)."""
    import docker.errors

    for attempt in range(RETRIES if killed else 1):
        try:
            attrs = api.inspect_container(container_id)
        except docker.errors.APIError:
            return None
        if (attrs.get("State") or {}).get("OOMKilled"):
            return out_of_memory_message(int((attrs.get("HostConfig") or {}).get("Memory") or 0))
        if killed and attempt < RETRIES - 1:
            time.sleep(RETRY_S)
    return None


def out_of_memory_message(limit_bytes: int) -> str:
    """Why a job's command was killed for memory, and what to do about it."""
    if limit_bytes > 0:
        return (f"the command ran out of memory: it was killed (exit 137) for using more than its "
                f"memory limit of {_size(limit_bytes)} (resources.docker_args --memory); raise the "
                "limit or use less memory")
    return ("the command ran out of memory: the kernel killed it (exit 137) when the machine had no "
            "memory left (the container has no memory limit); use less memory, or free some")


def _size(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size % 2**30 == 0 else f"{size / 2**20:.0f} MiB"
