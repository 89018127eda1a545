"""A stored plan: the plan saved in the job record (JSON) and rebuilt by the run, and the synthetic
``artifacts`` output every job has.
"""

from __future__ import annotations

from typing import Any

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import CONTAINER_ARTIFACTS, AssetRef, Binding, Resources, RunPlan
from runner.spec.environment import CondaSpec
from runner.uris import ARTIFACTS, ModelRef, parse_path
from runner.workspace.db import default_artifacts_uri
from runner.workspace.jobdir import JobDir


def binding_from_dict(data: dict[str, Any]) -> Binding:
    return Binding(**{**data, "direction": Direction(data["direction"]), "type": AssetType(data["type"]),
                      "mode": Mode(data["mode"]), "kind": PathKind(data["kind"]),
                      "registered_as": _registered_as(data.get("registered_as")),
                      "asset": _registered_as(data.get("asset"))})


def _registered_as(value: dict[str, Any] | str | None) -> AssetRef | None:
    """The stored registration: a ``AssetRef``'s fields. Records written before it had a kind hold a
    model reference's fields or, older still, its ``azureml:<name>[:<version>]`` text: both were models
    (named uri_* outputs were registered as custom_model versions then)."""
    if value is None:
        return None
    if isinstance(value, str):
        ref = parse_path(value if value.count(":") == 2 else value + "@latest")
        assert isinstance(ref, ModelRef)
        return AssetRef("model", ref.name, ref.version)
    if "kind" not in value:
        return AssetRef("model", value["name"], value.get("version"))
    return AssetRef(value["kind"], value["name"], value.get("version"))


def plan_from_dict(data: dict[str, Any]) -> RunPlan:
    """The inverse of ``RunPlan.to_dict`` (after a JSON round trip)."""
    res = dict(data.get("resources") or {})
    res["docker_args"] = tuple(res.get("docker_args") or ())
    res["gpu_ids"] = tuple(res.get("gpu_ids") or ())
    return RunPlan(**{
        **data,
        "inputs": tuple(binding_from_dict(b) for b in data["inputs"]),
        "outputs": tuple(binding_from_dict(b) for b in data["outputs"]),
        "resources": Resources(**res),
        "ignored_fields": tuple(data.get("ignored_fields") or ()),
        "warnings": tuple(data.get("warnings") or ()),
        "conda": _conda(data.get("conda")),
        "secret_env": tuple(data.get("secret_env") or ()),
    })


def _conda(data: dict[str, Any] | None) -> CondaSpec | None:
    return None if data is None else CondaSpec(**{**data, "requirements": tuple(data["requirements"])})


def artifacts_binding(job_name: str, job_dir: JobDir) -> Binding:
    """The job's default artifact location as an ``upload`` output (MLflow's artifact root)."""
    host = str(job_dir.scratch(Direction.OUTPUT, ARTIFACTS))  # the upload strategy's staging folder
    return Binding(name=ARTIFACTS, direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=Mode.UPLOAD,
                   uri=default_artifacts_uri(job_name), kind=PathKind.FOLDER, host_path=host,
                   container_path=CONTAINER_ARTIFACTS, value=CONTAINER_ARTIFACTS, host_value=host)
