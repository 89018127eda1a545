"""Where a job runs: a Ray compute registered in the workspace, or this machine.

    choice = choose_compute(ws, spec)   # choice.compute: a RayCompute, or None (runs here); choice.note

Light on purpose (no HTTP client, no zip): every job with a ``compute:`` asks it, and a job that runs
here never imports the Ray modules (``runner.jobs.ray_submit``, ``runner.jobs.ray_follow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.spec.job import CommandJobSpec
from runner.spec.load import reword_ignored, uses_local_process
from runner.workspace.db import Workspace

if TYPE_CHECKING:
    from runner.workspace.computes import RayCompute


@dataclass(frozen=True)
class ComputeChoice:
    compute: RayCompute | None  # None: the job runs on this machine
    note: str | None  # a named compute is not registered (only the first time the spec is looked at)


def choose_compute(ws: Workspace, spec: CommandJobSpec) -> ComputeChoice:
    """Where ``spec`` runs: a registered Ray compute, or here. Rewords the spec's "compute is ignored"
    warning to say which (idempotent)."""
    if not spec.compute or uses_local_process(spec):
        return ComputeChoice(None, None)
    from runner.workspace.computes import ComputeStore, compute_name  # start-up cost: only with a compute

    if not compute_name(spec.compute):
        return ComputeChoice(None, None)
    name = compute_name(spec.compute)
    compute = ComputeStore(ws).find(name)
    if compute is None:
        note = (f"compute '{name}' is not registered in this workspace, so the job runs on this machine "
                f"(`runner compute create --name {name} --type ray --address http://<head>:8265` "
                "registers a Ray cluster)")
        first = reword_ignored(spec, "compute", note)
        return ComputeChoice(None, note if first else None)
    reword_ignored(spec, "compute", None)
    if set(spec.resources.properties or {}) <= {"ray"}:
        reword_ignored(spec, "resources.properties", None)
    return ComputeChoice(compute, None)
