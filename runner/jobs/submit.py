"""Submitting a job: plan it against the workspace, snapshot its code, record it as Queued.

    plan = plan_job(spec, workspace=ws, job_name="j1")        # resolves every path and the environment
    plan, walk = plan_with_walk(spec, workspace=ws, job_name="j1")  # and its walk of the code folder,
    check_submission(spec, plan, backend=None, walk=walk)     # which the check takes (one walk)
    record = submit_job(ws, spec, name="j1", backend=None)    # plan + check + code snapshot + Queued record

Planning resolves every input and output (so a bad reference fails before anything is queued) and the
environment (the image, or the build context a mapped environment names, travels in the plan); the run
(``runner.jobs.run``) re-resolves the plan's canonical URIs in the process that runs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from runner.backends import get_backend
from runner.errors import JobError, RegistryError, ResolveError, SpecError, StorageError
from runner.file_urls import file_path
from runner.jobs.direct_creds import direct_store_endpoints, written_datastores
from runner.modes import AssetType, Mode, PathKind
from runner.plan.build import build_plan, registers_as
from runner.plan.direct_host import refuse_direct_host_url
from runner.plan.env_secrets import masked_spec, spec_secret_values
from runner.plan.types import RunPlan
from runner.spec.environment import not_found_kind
from runner.spec.job import CommandJobSpec, InlineEnvironment
from runner.spec.job_io import AssetInput
from runner.spec.load import uses_local_process
from runner.spec.names import check_job_name, default_experiment_name, generate_job_name
from runner.workspace.code_tree import BUILD_CONTEXT, check_code_tree, code_tree_refusal, copy_code_tree
from runner.workspace.db import DEFAULT_DATASTORE, JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.environments import PROVISIONED_HOLDS, EnvironmentStore, curated_sklearn
from runner.workspace.job_secrets import forget, keep
from runner.workspace.jobdir import JobDir
from runner.workspace.protect import WriteGuard
from runner.workspace.read_refusals import refuse_private_read
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.snapshot_rules import checked_rules, snapshot_rules, workspace_warning

UNSAFE_ENV = "RUNNER_ALLOW_UNSAFE_DOCKER_ARGS"
CODE_IGNORED = shutil.ignore_patterns(".git", "__pycache__")  # always left out (and see snapshot_rules)


def resolve_spec_paths(spec: CommandJobSpec, resolver: Resolver, *, job_name: str,
                       default_datastore: str = DEFAULT_DATASTORE
                       ) -> tuple[dict[str, ResolvedPath], dict[str, ResolvedPath]]:
    """Resolve every asset input that has a path and every output (default location, on
    ``default_datastore``, when no path), without contacting storage: forms, local paths and registry
    references are checked here; a remote object is read when the job runs
    (``runner.jobs.run.resolve_stored_plan``).

    An error says where the path was written (file:line:col and ``inputs.<name>.path``)."""
    inputs: dict[str, ResolvedPath] = {}
    for name, job_input in spec.inputs.items():
        if isinstance(job_input, AssetInput) and job_input.path is not None:
            with _located(spec, "inputs", name):
                inputs[name] = resolver.resolve(job_input.path, base_dir=spec.base_dir, check=False,
                                                field=f"inputs.{name}.path", asset_type=job_input.type.value)
                refuse_private_read(resolver.workspace, name, inputs[name])
    outputs: dict[str, ResolvedPath] = {}
    for name, output in spec.outputs.items():
        with _located(spec, "outputs", name):
            outputs[name] = resolver.resolve_output(output.path, job_name=job_name, output_name=name,
                                                    base_dir=spec.base_dir, field=f"outputs.{name}.path",
                                                    default_datastore=default_datastore, check=False,
                                                    file=output.type is AssetType.URI_FILE)
    return inputs, outputs


@contextlib.contextmanager
def _located(spec: CommandJobSpec, *field_path: str) -> Iterator[None]:
    """Errors about a value (a missing path, an unknown datastore/job/model, a refused docker_args)
    point at the line it was written on (``inputs.<name>`` → its ``path:``)."""
    try:
        yield
    except (ResolveError, SpecError, StorageError) as err:  # a local read refused: a link, a FIFO
        path = (*field_path, "path") if field_path[0] in ("inputs", "outputs") else field_path
        if err.field and err.field.startswith(".".join(field_path) + "."):  # a field inside: that one
            path = tuple(err.field.split("."))  # (environment.conda_file)
        field, where = spec.field_location(*path)
        raise err.located(field, where) from err


@dataclass(frozen=True)
class CodeWalk:
    """``plan_with_walk``'s one walk of its plan's code folder (``checked_rules``), which its caller gives
    to ``check_submission`` (``walk=``): what a snapshot cannot take (``found``), and the warning naming
    the runner workspaces inside the folder, which the snapshot leaves out (in the plan's warnings too)."""

    code_source: str
    code_dir: str | None
    found: tuple[tuple[str, str], ...]
    warning: str | None

    def of(self, plan: RunPlan) -> bool:
        """This is a walk of ``plan``'s code folder, for its snapshot."""
        return (self.code_source, self.code_dir) == (plan.code_source, plan.code_dir)


def plan_job(spec: CommandJobSpec, *, workspace: Workspace, job_name: str,
             default_datastore: str = DEFAULT_DATASTORE) -> RunPlan:
    """``plan_with_walk``'s plan (its walk of the code folder dropped: ``check_submission`` walks it)."""
    plan, _walk = plan_with_walk(spec, workspace=workspace, job_name=job_name,
                                 default_datastore=default_datastore)
    return plan


def plan_with_walk(spec: CommandJobSpec, *, workspace: Workspace, job_name: str,
                   default_datastore: str = DEFAULT_DATASTORE) -> tuple[RunPlan, CodeWalk | None]:
    """Resolve every path and the environment through the workspace, refuse outputs aimed where no job
    may write (``runner.workspace.protect``), then ``build_plan`` (``default_datastore``: where outputs
    without a path go; a Ray compute names its own). The code folder is walked once here, for the warning
    naming the workspaces inside it; the walk is returned (None: not walked, no local folder) for the
    caller to give to ``check_submission``, whose check of this plan then walks nothing."""
    resolver = Resolver(workspace)
    inputs, outputs = resolve_spec_paths(spec, resolver, job_name=job_name,
                                         default_datastore=default_datastore)
    with _located(spec, "environment"):  # an unmapped name points at environment:
        environment = EnvironmentStore(workspace).resolve_spec_environment(spec.environment, spec.base_dir)
    plan = build_plan(spec, job_name=job_name, job_dir=workspace.job_dir(job_name), inputs=inputs,
                      outputs=outputs, environment=environment,
                      experiment_name=spec.experiment_name or default_experiment_name())  # as recorded
    stand_in = _stand_in(workspace, spec.environment)
    if stand_in:  # in the plan (job validate) and the record's warnings
        plan = replace(plan, warnings=(*plan.warnings, stand_in))
    walk = _snapshot_walk(plan)
    if walk is not None and walk.warning:  # a workspace inside the code folder: the snapshot skips it
        plan = replace(plan, warnings=(*plan.warnings, walk.warning))
    plan = replace(plan, store_endpoints=direct_store_endpoints(plan.inputs, plan.outputs, inputs, outputs,
                                                                resolver.datastores))  # the network's
    _refuse_protected_outputs(spec, plan, outputs, WriteGuard(workspace, resolver.datastores))
    refuse_taken_versions(spec, workspace)
    writes = written_datastores(plan.outputs, outputs)
    for binding in plan.inputs:  # a direct input only read gets read-only credentials: refuse what has none
        name = inputs[binding.name].datastore
        if binding.mode is Mode.DIRECT and name is not None and name not in writes:
            with _located(spec, "inputs", binding.name):
                resolver.datastores.get(name).direct_env(write=False)
    return plan, walk


def _refuse_protected_outputs(spec: CommandJobSpec, plan: RunPlan, outputs: Mapping[str, ResolvedPath],
                              guard: WriteGuard) -> None:
    """An output aimed where no job may write is refused, pointing at its ``path:`` line."""
    for binding in plan.outputs:
        try:
            guard.refuse(outputs[binding.name], name=binding.name, job_name=plan.job_name, mode=binding.mode,
                         is_file=binding.kind is PathKind.FILE)
        except SpecError as err:
            raise err.located(*spec.field_location("outputs", binding.name, "path")) from err


def _stand_in(workspace: Workspace, environment: object) -> str | None:
    """A warning when a built-in stand-in for a curated environment has another scikit-learn than the
    curated one (``sklearn-1.0`` runs on the provisioned image, which has scikit-learn 1.5)."""
    if not isinstance(environment, str):
        return None
    with contextlib.suppress(ResolveError):
        record = EnvironmentStore(workspace).lookup(environment)
        if record is not None and record.builtin and (curated := curated_sklearn(record.name)):
            return (f"environment '{environment.strip()}' runs on {record.image} ({PROVISIONED_HOLDS}), "
                    f"which stands in for Azure's curated {record.name} (scikit-learn {curated}); map it "
                    f"to a matching image with `runner environment create --name {record.name} "
                    "--image IMAGE`")
    return None


def refuse_taken_versions(spec: CommandJobSpec, workspace: Workspace) -> None:
    """An output whose ``name`` + ``version`` is registered already is refused at its ``version:`` line
    before anything runs (registering it again fails: versions are immutable). Checked again when the
    job registers it (``runner.jobs.register``): a version may be created while the job runs."""
    for name, output in spec.outputs.items():
        target = registers_as(output)
        if target is None or target.version is None:  # no version: the next one, never taken
            continue
        from runner.jobs.taken import taken_version  # start-up cost: for a version that is named only

        written = spec.field_name("outputs", name, "version")  # a pipeline step's: jobs.<step>.outputs...
        taken = taken_version(workspace, target, name, field=written)
        if taken is not None:
            field, where = spec.field_location("outputs", name, "version")
            # a registry rule (exit 1), not an invalid file: the same YAML ran before the version existed
            raise RegistryError(taken.message, field=field, where=where, hint=taken.hint)


def check_submission(spec: CommandJobSpec, plan: RunPlan, *, backend: str | None,
                     walk: CodeWalk | None = None) -> str:
    """What ``job create`` refuses beyond planning, checked by ``job validate`` too (so whatever
    validate accepts, create accepts unless something local changed): the backend's own refusals
    (``docker_args``), the code folder and the build context. Local checks only (no storage, no
    engine). Returns the backend's name. The code folder's check uses ``walk``, ``plan_with_walk``'s of
    this plan (one of another plan is not taken); without it, it walks the folder (a plan checked again:
    what changed since is seen)."""
    walked = list(walk.found) if walk is not None and walk.of(plan) else None
    backend_name = backend_for(spec, backend)
    try:
        chosen = get_backend(backend_name)
    except SpecError as err:  # only a backend asked for by name can be unknown: the option
        raise err.located("--backend", None, python_field="backend") from err
    with _located(spec, "resources", "docker_args"):  # refuse what the backend cannot run before queuing
        try:
            chosen.check(plan)
        except SpecError as err:
            if err.field == "environment" and err.where is None:  # the image: not a docker_args refusal
                raise err.located(*spec.field_location(*_image_field(spec))) from err
            raise
    for binding in plan.bindings:  # a direct URL over this machine's file: an input's, not in a container
        with _located(spec, *binding.key.split("/", 1)):
            refuse_direct_host_url(binding, in_container=chosen.capabilities.in_container)
    if plan.code_source:
        with _located(spec, "code"):
            in_python = spec.source is None and not spec.parent_job_name  # built in Python (a step: YAML)
            _check_code(plan.code_source, plan.code_dir, python_dir=spec.base_dir if in_python else None,
                        walked=walked)
    if plan.build_context:
        inline = isinstance(spec.environment, InlineEnvironment) and spec.environment.build is not None
        field = ("environment", "build", "path") if inline else ("environment",)
        with _located(spec, *field):
            _check_build_context(Path(plan.build_context), plan.dockerfile)
    return backend_name


def _image_field(spec: CommandJobSpec) -> tuple[str, ...]:
    """Where the job's image was written: ``environment.image``, or ``environment`` (a name, a reference)."""
    if isinstance(spec.environment, InlineEnvironment) and spec.environment.image is not None:
        return ("environment", "image")
    return ("environment",)


def _check_code(code_source: str, code_dir: str | None, *, python_dir: Path | None = None,
                walked: list[tuple[str, str]] | None = None) -> None:
    """The code exists, is local, and a snapshot can take all of it (no FIFO, socket, unreadable file or
    path too long: ``runner.workspace.code_tree``), checked by ``job validate`` and before queuing.
    ``python_dir``: the job was built in Python, its relative paths taken from that folder (the hint
    says so, in Python's terms, not the YAML's). ``walked``: what ``plan_with_walk``'s walk of this folder
    found (None: walk it here)."""
    python = None if python_dir is None else (
        f"pass code= a local folder, relative to the current folder ({python_dir}), or an absolute path")
    if code_source.startswith(("azureml:", "http://", "https://")):
        raise SpecError(f"code '{code_source}' is not a local folder", field="code",
                        hint=python or "point code: at a local folder (relative to the job YAML)")
    source = Path(file_path(code_source, "code")).expanduser()  # a path (plan.build); file:///x too
    if not source.exists():
        # named but not there: a ResolveError (exit 1), as a missing input path; a malformed value: SpecError
        raise ResolveError(f"code folder '{code_source}' does not exist", field="code",
                           hint=python or "set code: to a folder relative to the job YAML")
    target = Path(code_dir) if code_dir and source.is_dir() else None
    found = walked if walked is not None else checked_rules(source, target=target)[1]
    if found:
        raise code_tree_refusal(source, found, "code")


def _check_build_context(context: Path, dockerfile: str | None) -> None:
    """The context is a folder holding its Dockerfile, and ``docker build`` (or a Ray job's package) can
    take every entry: no FIFO, socket, device, unreadable file or path too long (``check_code_tree``:
    nothing opened), checked by ``job validate`` and before queuing, for any backend."""
    if not context.is_dir():  # not there: exit 1, as a missing code folder; a file named: malformed (2)
        raise not_found_kind(context)(f"the build context {context} is not a folder",
                                      hint="set environment.build.path to the folder that holds the "
                                           "Dockerfile (relative to the job YAML)")
    if not (context / (dockerfile or "Dockerfile")).resolve().is_relative_to(context.resolve()):
        raise SpecError(f"the Dockerfile '{dockerfile}' is outside the build context {context}",
                        hint="name a Dockerfile inside the build context (dockerfile_path)")
    check_code_tree(context, field="environment", kind=BUILD_CONTEXT)  # the caller names the field, line
    if not (context / (dockerfile or "Dockerfile")).is_file():
        raise SpecError(f"the build context {context} has no {dockerfile or 'Dockerfile'}",
                        hint="add the Dockerfile, or set environment.build.dockerfile_path")


def backend_for(spec: CommandJobSpec, requested: str | None) -> str:
    """The backend a job runs on: the one asked for, else ``process`` for ``compute: local-process``."""
    if requested:
        return requested
    return "process" if uses_local_process(spec) else "docker"


def _snapshot_walk(plan: RunPlan) -> CodeWalk | None:
    """The one walk of the plan's code folder before queuing (``checked_rules``), None when not walked
    (``check_submission`` says why, at the ``code:`` line). The folder may change between this walk and
    the check that takes it (microseconds; the copy checks every entry again as it copies)."""
    code = plan.code_source
    if not code or code.startswith(("azureml:", "http://", "https://")):
        return None
    try:
        source = Path(file_path(code, "code")).expanduser()  # as _check_code names it
        if not source.is_dir():
            return None
        rules, found = checked_rules(source, target=Path(plan.code_dir) if plan.code_dir else None)
    except (OSError, SpecError):
        return None
    return CodeWalk(code, plan.code_dir, tuple(found), workspace_warning(source, rules))


def copy_code(code_source: str | None, job_dir: JobDir) -> list[str]:
    """Snapshot the job's ``code`` (a folder, or one file) into ``code/`` (the working directory),
    leaving out what ``runner.workspace.snapshot_rules`` does; returns its warning (a workspace left
    out), if any."""
    job_dir.code.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    if code_source:
        source = Path(file_path(code_source, "code")).expanduser()  # a path; file:///x too
        if code_source.startswith(("azureml:", "http://", "https://")):
            raise SpecError(f"code '{code_source}' is not a local folder", field="code",
                            hint="point code: at a local folder (relative to the job YAML)")
        if source.is_dir():  # any depth, no recursion; a FIFO, a socket, an unreadable file: one SpecError
            rules = snapshot_rules(source, keep_out=[job_dir.code])  # never the workspace it goes to
            copy_code_tree(source, job_dir.code, field="code", ignore=rules, dirs_exist_ok=True)
            left_out = workspace_warning(source, rules)
            warnings += [left_out] if left_out else []
        elif source.is_file():
            check_code_tree(source, field="code")  # readable
            shutil.copy2(source, job_dir.code / source.name)
        elif os.path.lexists(source):  # a FIFO, a socket (never opened)
            check_code_tree(source, field="code")
        else:
            raise ResolveError(f"code folder '{source}' does not exist", field="code",
                               hint="set code: to a folder relative to the job YAML")
    job_dir.make_code_dirs()
    return warnings


def with_docker_args_opt_in(plan: RunPlan, allow_unsafe_docker_args: bool) -> RunPlan:
    """The plan with the unsafe docker_args opt-in (``--allow-unsafe-docker-args`` or
    ``RUNNER_ALLOW_UNSAFE_DOCKER_ARGS=1``) when it was given; see ``runner.backends.docker_args``."""
    if allow_unsafe_docker_args or os.environ.get(UNSAFE_ENV, "") in ("1", "true", "yes"):
        return replace(plan, resources=replace(plan.resources, unsafe_docker_args=True))
    return plan


def queued_record(ws: Workspace, spec: CommandJobSpec, plan: RunPlan, *, backend: str) -> JobRecord:
    """The Queued record of a planned job, owned by this process (not yet stored)."""
    from runner.jobs.recovery import process_start_time  # start-up cost: `job validate` plans without it

    queued = utcnow()
    return JobRecord(
        name=plan.job_name, display_name=spec.display_name or plan.job_name,  # Azure's defaults
        experiment_name=spec.experiment_name or default_experiment_name(), created_at=queued,
        spec=masked_spec(spec.to_yaml_dict()), inputs={b.name: b.uri for b in plan.inputs},  # no secret
        outputs={b.name: b.uri for b in plan.outputs}, image=plan.image or None,
        backend=backend, runner_pid=os.getpid(), job_dir=str(ws.job_dir(plan.job_name)),
        extra={"plan": plan.to_dict(), "runner_start": process_start_time(os.getpid()),
               "literals": dict(plan.literals), "warnings": list(plan.warnings),
               "input_assets": {b.name: str(b.asset) for b in plan.inputs if b.asset is not None},
               "status_times": {JobStatus.QUEUED.value: utc_text(queued)},
               **({"unsafe_docker_args": list(plan.resources.docker_args)}
                  if plan.resources.unsafe_docker_args and plan.resources.docker_args else {})})


def new_job_name(ws: Workspace, spec: CommandJobSpec, name: str | None) -> str:
    """The name a new job gets (``name``, the spec's, or generated), checked to be free."""
    job_name = name or spec.name or generate_job_name()
    check_job_name(job_name, "name")
    if ws.job_exists(job_name):
        raise JobError(f"a job named '{job_name}' exists already",
                       hint="give another --name, or omit it to get a generated one",
                       python_hint="give the job another name (name=, or its own), or none to get a "
                                   "generated one")
    return job_name


def submit_job(ws: Workspace, spec: CommandJobSpec, *, name: str | None = None,
               backend: str | None = None, allow_unsafe_docker_args: bool = False) -> JobRecord:
    """Plan the job, snapshot its code and record it as Queued (owned by this process).

    ``allow_unsafe_docker_args``: see ``with_docker_args_opt_in``; the record then says so
    (``extra["unsafe_docker_args"]``)."""
    job_name = new_job_name(ws, spec, name)
    plan, walk = plan_with_walk(spec, workspace=ws, job_name=job_name)
    plan = with_docker_args_opt_in(plan, allow_unsafe_docker_args)
    backend_name = check_submission(spec, plan, backend=backend, walk=walk)
    record = queued_record(ws, spec, plan, backend=backend_name)
    ws.create_job(record)
    try:
        keep(ws, job_name, spec_secret_values(spec, plan.secret_env))  # until its run starts
    except StorageError as exc:  # nothing written (a link at its place: refused)
        ws.update_job(job_name, ending=True, status=JobStatus.FAILED, error=exc.render())
        raise
    try:
        with _located(spec, "code"):  # a snapshot error (the folder changed since the check): at code:
            copy_code(plan.code_source, ws.job_dir(job_name))  # its warning is the plan's already
    except (OSError, SpecError) as exc:
        message = exc.render() if isinstance(exc, SpecError) else f"copying the code failed: {exc}"
        ws.update_job(job_name, ending=True, status=JobStatus.FAILED, error=message)
        forget(ws, job_name)
        raise
    return record
