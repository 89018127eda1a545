"""Execution backends: run a ``RunPlan`` with bind mounts, and nothing more. ``docker`` (the default)
runs the command in a container, ``process`` as a host subprocess; ``base`` holds the protocol and the
``Capabilities`` callers ask about.

May import: ``runner.plan.types`` and the leaf vocabulary. Never the workspace or the job lifecycle.
``get_backend`` imports a backend's module on first use, so that ``runner --help`` never imports
docker-py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import SpecError

if TYPE_CHECKING:
    from runner.backends.base import Backend

BACKENDS = ("docker", "process")


def get_backend(name: str, *, cache_dir: Path | None = None, allow_pull: bool = False,
                quiet: bool = False) -> Backend:
    """The backend called ``name`` (``docker`` or ``process``); ``quiet``: no progress display."""
    if name == "docker":
        from runner.backends.docker import DockerBackend  # docker-py: imported only when a job needs it

        return DockerBackend(cache_dir=cache_dir, allow_pull=allow_pull, quiet=quiet)
    if name == "process":
        from runner.backends.process import ProcessBackend  # as docker: imported when chosen

        return ProcessBackend()
    raise SpecError(f"unknown backend '{name}'", field="backend", hint=f"use one of: {', '.join(BACKENDS)}")
