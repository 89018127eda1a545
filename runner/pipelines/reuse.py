"""Reuse of unchanged pipeline steps, as Azure ML does: a step whose command, code, environment, inputs
(by content) and settings match an earlier completed step reuses that step's outputs instead of running.

    key = fingerprint(workspace, spec)               # None: the step cannot be compared (see below)
    earlier = find_reusable(workspace, key)          # the job to reuse, or None
    remember(workspace, key, job_name)               # once a step job completed

What the fingerprint covers: the step job as written (command, input and output types and modes, literal
values, output paths other than the job's own default location, environment variables, resources,
limits, compute, distribution; a secret environment variable's value, by ``runner.plan.env_secrets``'
rule, as its HMAC-SHA256 with the workspace's own key: ``runner.workspace.secret_files``), the content
of every input (``runner.workspace.digests``; a registered model or data version by its name and version,
which never change), the content of the code folder, and the
environment (the image name it maps to, or the content of its build context). The code folder counts
as its snapshot takes it (``runner.workspace.snapshot_rules``): what its ``.amlignore`` or ``.gitignore``
leaves out, or a runner workspace inside it, changes nothing. Not covered: names,
display names, descriptions, tags. The image is compared by name: rebuilding ``python:3.11`` under the
same name is not seen (``force_rerun`` then).

The fingerprint is kept in ``runner.db`` (``step_reuse``): a plain digest of a short secret would let
anyone who reads the database check a guess of it, a keyed one does not. Only the secrets are keyed, so a
step without one keeps the fingerprint it had (and its earlier reuse rows), and only such a step needs the
key (made on first use, owner-only; a new key, say after the file was removed, reruns them once).

Never reused: a step with ``settings.force_rerun``, a component with ``is_deterministic: false``, and a
step with an output that registers a model or data version (a side effect a reuse would skip).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.file_urls import file_path
from runner.modes import PathKind
from runner.plan.env_secrets import SPEC_FIELD, is_secret
from runner.spec.job import CommandJobSpec, InlineEnvironment
from runner.spec.job_io import AssetInput
from runner.uris import ARTIFACTS
from runner.workspace.db import JobStatus, Workspace, utcnow
from runner.workspace.digests import SKIPPED_NAMES, Ignore, content_digest
from runner.workspace.environments import EnvironmentStore
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.secret_files import fingerprint_key, keyed
from runner.workspace.snapshot_rules import snapshot_rules

_NOT_COMPARED = ("name", "display_name", "description", "tags", "properties", "experiment_name",
                 "parent_job_name", "$schema", "code", "environment", "inputs")


def never_reused(spec: CommandJobSpec, *, deterministic: bool, force_rerun: bool) -> str | None:
    """Why this step always runs (None when it may be reused)."""
    if force_rerun:
        return "settings.force_rerun is set"
    if not deterministic:
        return "its component is not deterministic (is_deterministic: false)"
    registering = [name for name, output in spec.outputs.items() if output.name]
    if registering:
        return f"output '{registering[0]}' registers a version of an asset"
    return None


def _own_location(path: str, output: str) -> str:
    """A step job's own default location on a datastore (``settings.default_datastore``) names the job;
    as a setting it is "the default location on that datastore", the same for every run."""
    name = re.escape(output)  # a uri_file output's default is the file named after it in its folder
    own = rf"azureml://datastores/(?P<ds>[^/]+)/paths/azureml/[^/]+/{name}(/|/{name})?"
    match = re.fullmatch(own, path)
    return f"<default location on {match['ds']}>" if match else path


def _input_identity(ws: Workspace, resolver: Resolver, spec: CommandJobSpec, name: str,
                    job_input: AssetInput, aliases: Mapping[str, str]) -> str:
    assert job_input.path is not None
    path = job_input.path
    for planned, actual in aliases.items():  # a step that would be reused: read what it reuses
        path = path.replace(f"azureml://jobs/{planned}/", f"azureml://jobs/{actual}/")
    resolved = resolver.resolve(path, base_dir=spec.base_dir, field=f"inputs.{name}.path",
                                asset_type=job_input.type.value)
    if resolved.model is not None and resolved.cache_key:
        return resolved.cache_key
    if resolved.data is not None:  # a registered data version never changes
        return "data:{}:{}".format(*resolved.data)
    return _digest(ws, resolved, folder=resolved.kind is PathKind.FOLDER)


def _digest(ws: Workspace, resolved: ResolvedPath, *, folder: bool, skip: tuple[str, ...] = (),
            ignore: Ignore | None = None) -> str:
    """``content_digest`` of a resolved path; one on this machine is read without a filesystem object
    (``resolved.fs`` would import fsspec: most of a pipeline's cold ``job validate``)."""
    fs = None if resolved.local_path is not None else resolved.fs
    return content_digest(ws, fs, resolved.path, folder=folder, skip=skip, ignore=ignore)


def _code_identity(ws: Workspace, spec: CommandJobSpec) -> str | None:
    if not spec.code:
        return None
    source = Path(file_path(spec.code, "code")).expanduser()  # file:///x, file://localhost/x, file:/x: /x
    source = source if source.is_absolute() else (spec.base_dir / source).resolve()
    resolver = Resolver(ws)
    resolved = resolver.resolve(str(source), field="code")
    folder = resolved.kind is PathKind.FOLDER  # what the snapshot leaves out (.amlignore, a workspace) too
    rules = snapshot_rules(Path(resolved.path), keep_out=[ws.root]) if folder else None
    return _digest(ws, resolved, folder=folder, skip=SKIPPED_NAMES, ignore=rules)


def _environment_identity(ws: Workspace, spec: CommandJobSpec) -> Any:
    env = spec.environment
    if isinstance(env, InlineEnvironment) and env.build is not None:
        context = (spec.base_dir / env.build.path).resolve()
        resolved = Resolver(ws).resolve(str(context), field="environment.build.path")
        return {"build": _digest(ws, resolved, folder=True),
                "dockerfile": env.build.dockerfile_path}
    mapped = EnvironmentStore(ws).resolve_spec_environment(env, spec.base_dir)  # from the YAML's folder
    if mapped.build_context:
        resolved = Resolver(ws).resolve(mapped.build_context, field="environment")
        return {"image": mapped.image, "build": _digest(ws, resolved, folder=True),
                "dockerfile": mapped.dockerfile}
    if mapped.conda:  # the packages installed (a registered environment's new version may change them)
        return {"image": mapped.conda.base_image, "python": mapped.conda.python,
                "conda": list(mapped.conda.requirements)}
    return {"image": mapped.image}


def fingerprint(ws: Workspace, spec: CommandJobSpec, *, aliases: Mapping[str, str] | None = None) -> str:
    """The step's identity for reuse (see the module docstring). ``aliases`` maps planned upstream job
    names to the jobs they would reuse (for ``job validate``'s prediction). Raises ``RunnerError`` when an
    input cannot be read."""
    data = {k: v for k, v in spec.to_yaml_dict().items() if k not in _NOT_COMPARED}
    for name, output in data.get("outputs", {}).items():
        if isinstance(output, dict) and isinstance(output.get("path"), str):
            output["path"] = _own_location(output["path"], name)
    resolver = Resolver(ws)
    inputs: dict[str, Any] = {}
    for name, job_input in sorted(spec.inputs.items()):
        described = job_input.model_dump(mode="json", exclude_none=True, exclude={"description"})
        if isinstance(job_input, AssetInput) and job_input.path is not None:
            described["path"] = _input_identity(ws, resolver, spec, name, job_input, aliases or {})
        inputs[name] = described
    data["inputs"] = inputs
    data["code"] = _code_identity(ws, spec)
    data["environment"] = _environment_identity(ws, spec)
    if SPEC_FIELD in data:
        data[SPEC_FIELD] = _keyed_secrets(ws, data[SPEC_FIELD])
    text = json.dumps(data, sort_keys=True, default=str)
    return "step:" + hashlib.sha256(text.encode()).hexdigest()


def _keyed_secrets(ws: Workspace, variables: Any) -> Any:
    """``environment_variables`` with each secret's value as its keyed digest (the key read or made only
    when there is one); anything else as it is."""
    if not isinstance(variables, dict) or not any(is_secret(str(n), v) for n, v in variables.items()):
        return variables
    key = fingerprint_key(ws.secrets_dir)
    return {name: keyed(key, str(value)) if is_secret(str(name), value) else value
            for name, value in variables.items()}


def find_reusable(ws: Workspace, key: str) -> str | None:
    """The completed job this fingerprint was last seen on, if its outputs are still there."""
    with ws.reading() as conn:
        row = conn.execute("SELECT job_name FROM step_reuse WHERE fingerprint = ?", (key,)).fetchone()
    if row is None or not ws.job_exists(row["job_name"]):
        return None
    record = ws.get_job(row["job_name"])
    if record.status is not JobStatus.COMPLETED:
        return None
    resolver = Resolver(ws)
    for name, uri in record.outputs.items():
        if name == ARTIFACTS:
            continue
        try:
            if resolver.resolve_output(uri, job_name=record.name, output_name=name).kind is PathKind.ANY:
                return None
        except RunnerError:
            return None
    return record.extra.get("reused_from") or record.name


def remember(ws: Workspace, key: str, job_name: str) -> None:
    """``job_name`` completed with this fingerprint: later steps like it may reuse it."""
    with ws.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO step_reuse (fingerprint, job_name, created_at) VALUES (?, ?, ?)",
                     (key, job_name, utcnow().isoformat()))


def predict_reuse(ws: Workspace, steps: list[tuple[str, str, CommandJobSpec, bool, tuple[str, ...]]], *,
                  force_rerun: bool) -> dict[str, str]:
    """What ``job validate`` says of each step (name, planned job, spec, deterministic, depends_on, in
    dependency order): ``would reuse job X`` or ``would run (why)``. A step whose upstream step would be
    reused is compared with that step's outputs, as it would be when it runs."""
    aliases: dict[str, str] = {}
    predicted: dict[str, str] = {}
    for name, job, spec, deterministic, depends_on in steps:
        reason = never_reused(spec, deterministic=deterministic, force_rerun=force_rerun)
        reused = {n for n, said in predicted.items() if said.startswith("would reuse")}
        running = [d for d in depends_on if d not in reused]
        if reason is None and running:
            reason = f"it reads the output of step {running[0]}, which runs"
        earlier = None
        if reason is None:
            try:
                earlier = find_reusable(ws, fingerprint(ws, spec, aliases=aliases))
            except RunnerError as err:
                reason = f"reuse not checked: {err.message}"
        if earlier is not None:
            aliases[job] = earlier
            predicted[name] = f"would reuse job {earlier}"
        else:
            predicted[name] = f"would run ({reason or 'no earlier completed step matches'})"
    return predicted
