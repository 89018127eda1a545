"""Execution backends: ``docker`` (the default) and ``process`` (a host subprocess).

Imported lazily by ``runner.jobs`` so that ``runner --help`` never imports docker-py.
"""

from __future__ import annotations

from pathlib import Path

from runner.backends.base import Backend, BindMount, PreparedImage, RunHandle, RunSpec
from runner.errors import SpecError

BACKENDS = ("docker", "process")


def get_backend(name: str, *, cache_dir: Path | None = None, allow_pull: bool = False) -> Backend:
    """The backend called ``name`` (``docker`` or ``process``)."""
    if name == "docker":
        from runner.backends.docker import DockerBackend

        return DockerBackend(cache_dir=cache_dir, allow_pull=allow_pull)
    if name == "process":
        from runner.backends.process import ProcessBackend

        return ProcessBackend()
    raise SpecError(f"unknown backend '{name}'", field="backend", hint=f"use one of: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "BindMount", "PreparedImage", "RunHandle", "RunSpec", "get_backend"]
