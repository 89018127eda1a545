"""From a checked spec and resolved paths to a ``RunPlan`` — pure: no I/O, printable, comparable.

    inputs, outputs = resolve_spec_paths(spec, resolver, job_name=name)   # the I/O: runner.jobs.submit
    plan = build_plan(spec, job_name=name, job_dir=ws.job_dir(name), inputs=inputs, outputs=outputs,
                      environment=ResolvedEnvironment("python:3.11"))
    print(render_plan(plan)); json.dumps(plan.to_dict())          # runner.plan.render

Container layout: inputs at ``/mnt/runner/inputs/<name>`` (a file input at
``/mnt/runner/inputs/<name>/<basename>``), outputs at ``/mnt/runner/outputs/<name>``, code (the working
directory) at ``/mnt/runner/code``. ``direct`` bindings give the job a URL it opens itself; for a local
path that is the host path, bind-mounted at the same path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from runner.errors import SpecError
from runner.file_urls import file_path
from runner.modes import (
    DEFAULT_MODE,
    MODEL_TYPES,
    AssetType,
    Direction,
    Mode,
    PathKind,
    check_mode,
    path_kinds,
)
from runner.plan.azureml_env import azureml_env, replaced_warnings, withheld
from runner.plan.direct_env import INPUT_ENV_PREFIX, OUTPUT_ENV_PREFIX, merge_direct_env
from runner.plan.distribution_env import distribution_env
from runner.plan.env_secrets import (
    DOCKER_KEY,
    docker_secret_warnings,
    docker_secrets,
    masked,
    masked_docker_args,
    refuse_shown_mask,
    secret_names,
    secret_warnings,
)
from runner.plan.types import (
    CONTAINER_ROOT,
    CONTAINER_WORKDIR,
    AssetKind,
    AssetRef,
    Binding,
    Resources,
    RunPlan,
)
from runner.spec.expressions import render_command
from runner.spec.job import CommandJobSpec, InlineEnvironment
from runner.spec.job_io import AssetInput, LiteralInput, OutputSpec
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath


def _check_kind(spec: CommandJobSpec, name: str, asset_type: AssetType, direction: Direction,
                resolved: ResolvedPath) -> None:
    """A uri_file must be a file; uri_folder, mlflow_model, triton_model, mltable must be folders."""
    kinds = path_kinds(asset_type, direction)
    if resolved.kind is PathKind.ANY or resolved.kind in kinds:
        return
    group = "inputs" if direction is Direction.INPUT else "outputs"
    wanted = " or ".join(k.value for k in kinds)
    if asset_type is AssetType.URI_FILE:
        hint = "use type: uri_folder for a folder, or point path at a single file"
    elif asset_type is AssetType.URI_FOLDER:
        hint = "use type: uri_file for a single file, or point path at its folder"
    else:
        hint = f"point path at the {asset_type.value.replace('_', ' ')}'s folder"
    raise SpecError(f"{asset_type.value} {direction.value} '{name}' is a {resolved.kind.value} "
                    f"({resolved.uri}); a {asset_type.value} {direction.value} must be a {wanted}",
                    field=f"{group}.{name}.path", where=spec.where(group, name, "path"), hint=hint)


def _basename(resolved: ResolvedPath) -> str:
    return posixpath.basename(resolved.path.rstrip("/")) or "data"


def names_a_file(path: str | None) -> bool:
    """Whether an output's ``path`` names a file: its last segment has an extension (``model.pkl``) and
    it does not end with ``/``. (Azure tells them apart by the path too; a folder can be forced with a
    trailing ``/``.)"""
    if not path or path.endswith("/"):
        return False
    last = posixpath.basename(path.split("/paths/", 1)[-1] if "/paths/" in path else path)
    stem, dot, extension = last.rpartition(".")
    return bool(dot and stem and extension and extension.isalnum())


def expected_kind(asset_type: AssetType, direction: Direction, resolved: ResolvedPath,
                  output_path: str | None = None) -> PathKind:
    """What a binding is: what resolution found, else what the type says (``uri_file``: a file, without
    a path too: the file named after the output in its default folder, as in Azure ML; the folder types:
    a folder). ``custom_model`` is a folder as an input (a single file has no mode in the matrix) and, as
    an output, a file when its path names one (the seed's "custom file" output)."""
    if resolved.kind is not PathKind.ANY:
        return resolved.kind
    kinds = path_kinds(asset_type, direction)
    if len(kinds) == 1:
        return kinds[0]
    if direction is Direction.INPUT:
        return PathKind.FOLDER
    return PathKind.FILE if names_a_file(output_path) else PathKind.FOLDER


def check_resolved(binding: Binding, resolved: ResolvedPath) -> None:
    """At run time, once a remote path has been read: it is what the plan expected (a file for a
    ``uri_file``, a folder for a ``uri_folder``...), and the matrix allows its mode for what it is."""
    if resolved.kind is PathKind.ANY or resolved.kind is binding.kind:
        return
    group = "inputs" if binding.direction is Direction.INPUT else "outputs"
    field = f"{group}.{binding.name}"
    if resolved.kind in path_kinds(binding.type, binding.direction):  # e.g. a custom_model file input
        check_mode(binding.type, binding.direction, binding.mode, resolved.kind, field=field)
    if binding.kind is not PathKind.ANY:
        what = f"{binding.type.value} {binding.direction.value} '{binding.name}'"
        raise SpecError(f"{what} is a {resolved.kind.value} ({binding.uri}); a {binding.kind.value} was "
                        "expected", field=f"{field}.path",
                        hint=f"point path at a {binding.kind.value}, or change the type")


def _binding(name: str, direction: Direction, asset_type: AssetType, mode: Mode, resolved: ResolvedPath,
             job_dir: JobDir, *, kind: PathKind, registered_as: AssetRef | None = None) -> Binding:
    if mode is Mode.DIRECT:
        return direct_binding(name, direction, asset_type, resolved, kind=kind, registered_as=registered_as)
    group = "inputs" if direction is Direction.INPUT else "outputs"
    model_key = resolved.cache_key if resolved.model is not None else None
    asset = _asset_read(resolved)
    container = f"{CONTAINER_ROOT}/{group}/{name}"
    host = str(job_dir.scratch(direction, name))
    suffix = f"/{_basename(resolved)}" if kind is PathKind.FILE else ""
    return Binding(name, direction, asset_type, mode, resolved.uri, kind, host, container,
                   container + suffix, host + suffix, registered_as, model_key, asset)


def direct_binding(name: str, direction: Direction, asset_type: AssetType, resolved: ResolvedPath, *,
                   kind: PathKind, registered_as: AssetRef | None = None) -> Binding:
    """A ``direct`` binding: the job gets the URL (a local path: the path, bound at the same path)."""
    local = str(resolved.local_path) if resolved.local_path is not None else ""
    value = local or resolved.url
    model_key = resolved.cache_key if resolved.model is not None else None
    return Binding(name, direction, asset_type, Mode.DIRECT, resolved.uri, kind, local, local,
                   value, value, registered_as, model_key, _asset_read(resolved))


def _asset_read(resolved: ResolvedPath) -> AssetRef | None:
    if resolved.model is not None:
        return AssetRef("model", *resolved.model)
    if resolved.data is not None:
        return AssetRef("data", *resolved.data)
    return None


def _input_binding(spec: CommandJobSpec, name: str, job_input: AssetInput, resolved: ResolvedPath,
                   job_dir: JobDir) -> Binding:
    mode = job_input.mode or DEFAULT_MODE[Direction.INPUT]
    _check_kind(spec, name, job_input.type, Direction.INPUT, resolved)  # custom_model: file or folder
    kind = expected_kind(job_input.type, Direction.INPUT, resolved)
    check_mode(job_input.type, Direction.INPUT, mode, kind, field=f"inputs.{name}",
               where=spec.where("inputs", name))
    return _binding(name, Direction.INPUT, job_input.type, mode, resolved, job_dir, kind=kind)


def _output_binding(spec: CommandJobSpec, name: str, output: OutputSpec, resolved: ResolvedPath,
                    job_dir: JobDir) -> Binding:
    mode = output.mode or DEFAULT_MODE[Direction.OUTPUT]
    _check_kind(spec, name, output.type, Direction.OUTPUT, resolved)
    kind = expected_kind(output.type, Direction.OUTPUT, resolved, output.path)
    check_mode(output.type, Direction.OUTPUT, mode, kind, field=f"outputs.{name}",
               where=spec.where("outputs", name))
    return _binding(name, Direction.OUTPUT, output.type, mode, resolved, job_dir, kind=kind,
                    registered_as=registers_as(output))


def registers_as(output: OutputSpec) -> AssetRef | None:
    """What an output with ``name`` (and ``version``) set is registered as when its job completes: a model
    version for a model type, a data asset version for ``uri_file``/``uri_folder``/``mltable``."""
    if not output.name:
        return None
    asset_kind: AssetKind = "model" if output.type in MODEL_TYPES else "data"
    return AssetRef(asset_kind, output.name, output.version)


def _bindings(spec: CommandJobSpec, job_dir: JobDir, inputs: Mapping[str, ResolvedPath],
              outputs: Mapping[str, ResolvedPath]) -> tuple[list[Binding], list[Binding]]:
    in_bindings: list[Binding] = []
    for name, job_input in spec.inputs.items():
        if not isinstance(job_input, AssetInput) or job_input.path is None:
            continue
        if name not in inputs:
            raise SpecError(f"input '{name}' was not resolved", field=f"inputs.{name}",
                            hint="resolve every input with a path before planning (resolve_spec_paths)")
        in_bindings.append(_input_binding(spec, name, job_input, inputs[name], job_dir))
    out_bindings: list[Binding] = []
    for name, output in spec.outputs.items():
        if name not in outputs:
            raise SpecError(f"output '{name}' was not resolved", field=f"outputs.{name}",
                            hint="resolve every output before planning (resolve_spec_paths)")
        out_bindings.append(_output_binding(spec, name, output, outputs[name], job_dir))
    return in_bindings, out_bindings


def _values(spec: CommandJobSpec, bindings: list[Binding], *, host: bool) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        name: job_input.rendered() for name, job_input in spec.inputs.items()
        if isinstance(job_input, LiteralInput)}
    values.update({name: None for name, job_input in spec.inputs.items()
                   if isinstance(job_input, AssetInput) and job_input.path is None})
    values.update({b.name: b.host_value if host else b.value for b in bindings})
    return values


def _env(spec: CommandJobSpec, inputs: Mapping[str, str | None], outputs: Mapping[str, str],
         azureml: Mapping[str, str], distributed: Mapping[str, str]) -> dict[str, str]:
    """``AZURE_ML_INPUT_<name>`` / ``AZURE_ML_OUTPUT_<name>``, then the ``distribution``'s variables
    (``runner.plan.distribution_env``), then ``environment_variables`` (which replace those), then the
    job's ``AZUREML_*`` (``runner.plan.azureml_env``: its identity, which those do not replace; one given
    empty there is left out). A name
    with a dash is no shell identifier (dash and busybox ``sh`` drop such variables before the job's
    program starts; bash keeps them), so it is also exported with ``_`` for ``-``
    (``AZURE_ML_OUTPUT_trained_model``), unless that name is taken."""
    env: dict[str, str] = {}
    for prefix, values in ((INPUT_ENV_PREFIX, inputs), (OUTPUT_ENV_PREFIX, outputs)):
        env.update({f"{prefix}{k}": v for k, v in values.items() if v is not None})
    for prefix, values in ((INPUT_ENV_PREFIX, inputs), (OUTPUT_ENV_PREFIX, outputs)):
        for name, value in values.items():
            alias = f"{prefix}{name.replace('-', '_')}"
            if "-" in name and value is not None and alias not in env:
                env[alias] = value
    env.update(distributed)
    env.update(spec.environment_variables)
    env.update(azureml)
    for key in withheld(spec):
        env.pop(key, None)
    return env


def _build(spec: CommandJobSpec) -> tuple[str, str] | None:
    """An inline ``environment: {build: {path: ...}}``: its context on the host and its Dockerfile."""
    env = spec.environment
    if isinstance(env, InlineEnvironment) and env.build is not None:
        context = (spec.base_dir / env.build.path).resolve()
        return str(context), env.build.dockerfile_path
    return None


def _code_source(spec: CommandJobSpec) -> str | None:
    """The local code folder (or file) as a path on this machine, its ``file:`` forms read as a path's
    (``runner.file_urls``: ``file://<another host>/...`` is one error at its line); any other as written."""
    if not spec.code:
        return None
    if spec.code.startswith(("azureml:", "http://", "https://")):
        return spec.code
    try:
        code = file_path(spec.code, "code")
    except SpecError as err:
        raise err.located(*spec.field_location("code")) from None
    return str((spec.base_dir / code).resolve())


def _direct_warnings(bindings: list[Binding], resolved: Mapping[str, ResolvedPath]) -> list[str]:
    """That two ``direct`` bindings' credentials cannot all be process-wide variables (see
    ``runner.plan.direct_env``), said when the job is validated or created."""
    warning = merge_direct_env((b.name, b.direction, resolved[b.name].env) for b in bindings
                               if b.mode is Mode.DIRECT and b.name in resolved).warning()
    return [warning] if warning else []


def build_plan(spec: CommandJobSpec, *, job_name: str, job_dir: JobDir, inputs: Mapping[str, ResolvedPath],
               outputs: Mapping[str, ResolvedPath], environment: ResolvedEnvironment,
               experiment_name: str | None = None) -> RunPlan:
    """The run plan for ``spec`` (pure). Raises ``ModeError``/``SpecError`` for a refused binding.

    ``inputs``/``outputs``: every asset input with a path and every output, resolved
    (``runner.jobs.submit.resolve_spec_paths``); ``environment``: the image (and build context) the
    spec's environment maps to; ``experiment_name``: the experiment the job is recorded under (else the
    spec's), for its ``AZUREML_*`` variables.
    """
    refuse_shown_mask(spec, spec.environment_variables)  # a secret's *** as runner shows it: not a value
    in_bindings, out_bindings = _bindings(spec, job_dir, inputs, outputs)
    container_in = _values(spec, in_bindings, host=False)
    host_in = _values(spec, in_bindings, host=True)
    container_out = {b.name: b.value for b in out_bindings}
    host_out = {b.name: b.host_value for b in out_bindings}
    build_context, dockerfile = _build(spec) or (environment.build_context, environment.dockerfile)
    resources = spec.resources
    azureml = azureml_env(spec, job_name, experiment_name)
    distributed = distribution_env(spec, job_name)
    env = _env(spec, container_in, container_out, azureml, distributed)
    secret = secret_names(spec.environment_variables, env)  # kept out of the plan: *** (env_secrets)
    docker = tuple(docker_secrets(resources.docker_args))  # docker_args' too: NAME=*** (env_secrets)
    return RunPlan(
        job_name=job_name, image=environment.image, build_context=build_context, dockerfile=dockerfile,
        command=render_command(spec.command, inputs=container_in, outputs=container_out,
                               job_name=job_name),
        host_command=render_command(spec.command, inputs=host_in, outputs=host_out, job_name=job_name),
        env=masked(env, secret), code_dir=str(job_dir.code),
        working_dir=CONTAINER_WORKDIR, inputs=tuple(in_bindings), outputs=tuple(out_bindings),
        literals={k: v for k, v in container_in.items()
                  if isinstance(spec.inputs[k], LiteralInput) and v is not None},
        timeout_s=float(spec.limits.timeout) if spec.limits.timeout else None,
        resources=Resources(instance_count=resources.instance_count, shm_size=resources.shm_size,
                            docker_args=tuple(masked_docker_args(resources.docker_args)),
                            gpu_count=-1 if resources.gpu_count == "all" else int(resources.gpu_count)),
        ignored_fields=tuple(spec.ignored_fields),
        warnings=(*spec.warnings, *replaced_warnings(spec, azureml),
                  *_direct_warnings(in_bindings + out_bindings, {**inputs, **outputs}),
                  *secret_warnings(spec, secret), *docker_secret_warnings(spec, docker)),
        code_source=_code_source(spec),
        host_env=masked(_env(spec, host_in, host_out, azureml, distributed), secret),
        conda=environment.conda, secret_env=(*secret, *(DOCKER_KEY + name for name in docker)),
    )
