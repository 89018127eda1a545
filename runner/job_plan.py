"""A stored plan and its bindings: the plan saved in the job record (JSON) and rebuilt by the worker,
the synthetic ``artifacts`` output, and resolution of every binding's canonical URI before a run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan_types import Binding, Resources, RunPlan
from runner.resolved import ResolvedPath
from runner.uris import ARTIFACTS
from runner.workspace import Workspace, default_artifacts_uri

ARTIFACTS_CONTAINER_PATH = "/mnt/runner/artifacts"


def binding_from_dict(data: dict[str, Any]) -> Binding:
    return Binding(**{**data, "direction": Direction(data["direction"]), "type": AssetType(data["type"]),
                      "mode": Mode(data["mode"]), "kind": PathKind(data["kind"])})


def plan_from_dict(data: dict[str, Any]) -> RunPlan:
    """The inverse of ``RunPlan.to_dict`` (after a JSON round trip)."""
    res = dict(data.get("resources") or {})
    res["docker_args"] = tuple(res.get("docker_args") or ())
    return RunPlan(**{
        **data,
        "inputs": tuple(binding_from_dict(b) for b in data["inputs"]),
        "outputs": tuple(binding_from_dict(b) for b in data["outputs"]),
        "resources": Resources(**res),
        "ignored_fields": tuple(data.get("ignored_fields") or ()),
        "warnings": tuple(data.get("warnings") or ()),
    })


def artifacts_binding(job_name: str, job_dir: Path) -> Binding:
    """The job's default artifact location as an ``upload`` output (MLflow's artifact root)."""
    host = str(job_dir / "outputs" / ARTIFACTS)  # the upload strategy's staging folder
    return Binding(name=ARTIFACTS, direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=Mode.UPLOAD,
                   uri=default_artifacts_uri(job_name), kind=PathKind.FOLDER, host_path=host,
                   container_path=ARTIFACTS_CONTAINER_PATH, value=ARTIFACTS_CONTAINER_PATH,
                   host_value=host)


def resolve_bindings(ws: Workspace, plan: RunPlan) -> dict[str, ResolvedPath]:
    """Every binding's canonical URI resolved again (filesystems are not stored in the record)."""
    from runner.resolve import Resolver

    resolver = Resolver(ws)
    resolved = {}
    for b in plan.inputs:
        found = resolver.resolve(b.uri, field=f"inputs.{b.name}")
        # the plan holds the model's storage path; its version's key finds it in the download cache
        resolved[b.name] = dataclasses.replace(found, cache_key=b.cache_key) if b.cache_key else found
    for b in plan.outputs:
        resolved[b.name] = resolver.resolve_output(b.uri, job_name=plan.job_name, output_name=b.name,
                                                   field=f"outputs.{b.name}")
    resolved[ARTIFACTS] = resolver.resolve_output(default_artifacts_uri(plan.job_name),
                                                  job_name=plan.job_name, output_name=ARTIFACTS)
    return resolved
