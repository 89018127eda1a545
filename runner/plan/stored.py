"""A stored plan: the plan saved in the job record (JSON) and rebuilt by the run, and the synthetic
``artifacts`` output every job has.
"""

from __future__ import annotations

import logging
from typing import Any

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import CONTAINER_ARTIFACTS, AssetRef, Binding, Resources, RunPlan
from runner.spec.environment import CondaSpec
from runner.uris import ARTIFACTS, ModelRef, parse_path
from runner.workspace.db import default_artifacts_uri
from runner.workspace.jobdir import JobDir

logger = logging.getLogger(__name__)
_WARNED: set[str] = set()  # the jobs whose malformed secret_env was warned of (once a process)


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
    """The inverse of ``RunPlan.to_dict`` (after a JSON round trip); a ``secret_env`` no runner writes is
    read as the plan's secrets (``_named_secrets``)."""
    listed = data.get("secret_env") or ()
    if not isinstance(listed, list | tuple) or not all(isinstance(name, str) for name in listed):
        data = _named_secrets(data, type(listed).__name__)
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
        "store_endpoints": tuple(data.get("store_endpoints") or ()),
    })


def _named_secrets(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """A stored plan whose ``secret_env`` is not a list of names (``kind``: what it is), as the masking of
    old records repairs one (``runner.workspace.old_job_secrets``): it names the plan's secrets, the
    ``env``/``host_env`` variables and the docker_args ones that are secrets by the one rule or show
    ``***``, and each such value is ``***`` (its run takes them from the secrets folder, or says they are
    missing). One warning a process per job, never a value."""
    from runner.plan.env_secrets import DOCKER_KEY, MASK  # start-up cost: a malformed record only
    from runner.spec.docker_env import env_pairs
    from runner.spec.env_secret_rule import is_secret
    from runner.spec.secret_fields import masked_docker_args

    found, names = dict(data), dict[str, None]()
    for field in ("env", "host_env"):
        env = data.get(field)
        if isinstance(env, dict):
            secret = [n for n, v in env.items() if v == MASK or is_secret(str(n), v)]
            names.update(dict.fromkeys(map(str, secret)))
            found[field] = {n: MASK if n in secret else v for n, v in env.items()}
    given = data.get("resources")
    resources: dict[str, Any] = given if isinstance(given, dict) else {}
    args = resources.get("docker_args")
    if isinstance(args, list | tuple) and all(isinstance(arg, str) for arg in args):
        masked = masked_docker_args(args)  # a secret set there as NAME=***; one shown so already kept
        names.update(dict.fromkeys(DOCKER_KEY + name for name, value in env_pairs(masked) if value == MASK))
        found["resources"] = {**resources, "docker_args": masked}
    found["secret_env"] = list(names)
    job = str(data.get("job_name"))
    if job not in _WARNED:
        _WARNED.add(job)
        logger.warning("job %s: its stored plan's secret_env was %s, not a list of names (no runner writes "
                       "it): read as naming the plan's %d secret(s), their values shown as %s; create the "
                       "job again if it is to run", job, kind, len(names), MASK)
    return found


def _conda(data: dict[str, Any] | None) -> CondaSpec | None:
    return None if data is None else CondaSpec(**{**data, "requirements": tuple(data["requirements"])})


def artifacts_binding(job_name: str, job_dir: JobDir) -> Binding:
    """The job's default artifact location as an ``upload`` output (MLflow's artifact root)."""
    host = str(job_dir.scratch(Direction.OUTPUT, ARTIFACTS))  # the upload strategy's staging folder
    return Binding(name=ARTIFACTS, direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=Mode.UPLOAD,
                   uri=default_artifacts_uri(job_name), kind=PathKind.FOLDER, host_path=host,
                   container_path=CONTAINER_ARTIFACTS, value=CONTAINER_ARTIFACTS, host_value=host)
