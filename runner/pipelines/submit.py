"""Submitting a pipeline: check everything that can be checked before anything runs, then record the
pipeline as Queued and hand it to an orchestrator (a detached worker, or this process with ``--stream``).

    graph, locations = plan_pipeline(workspace, spec, name="p1")      # job validate (nothing is written)
    record = submit_pipeline(workspace, spec, name="p1")              # Queued
    start_orchestrator(workspace, record.name)                        # or: run_pipeline(workspace, name)

Checked before anything runs: the structure, every component and binding (``runner.pipelines.graph``),
each step as a command job (types, modes, expressions), every local or datastore input path and output
location, an output that would register a model or data version that exists already, the environments,
the whole plan of each step that reads no other step's output, and a step's ``direct`` output whose
container will hold another step's default output (its start refuses it once that step is recorded). What a
step reads from an upstream step is resolved when that step is submitted, once the upstream job exists;
but a ``direct`` binding of such a step is checked now as its start will check it, a ``direct`` input
bound to an upstream output at the location that step writes it to (``runner.pipelines.step_direct``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from runner.backends import BACKENDS
from runner.errors import JobError, RegistryError, ResolveError, SpecError, StorageError
from runner.jobs.compute import choose_compute, default_datastore, run_backend
from runner.jobs.submit import check_submission, plan_with_walk, refuse_taken_versions
from runner.modes import AssetType, Mode
from runner.pipelines.graph import PipelineGraph, StepNode, build_graph
from runner.pipelines.reuse import predict_reuse
from runner.pipelines.step_direct import refuse_direct_bindings
from runner.pipelines.step_places import compute_source
from runner.pipelines.step_secrets import registered_docker_args
from runner.pipelines.step_snapshots import local_code, snapshot_warnings
from runner.plan.env_secrets import masked_spec, refuse_shown_mask
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import AssetInput
from runner.spec.names import check_job_name, default_experiment_name, generate_job_name
from runner.spec.pipeline import PipelineJobSpec
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.environments import EnvironmentStore
from runner.workspace.job_secrets import keep
from runner.workspace.protect import WriteGuard
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath

if TYPE_CHECKING:
    from runner.jobs.supervise import Echo

Locations = dict[str, dict[str, str]]  # step -> output -> where it will be written


@contextlib.contextmanager
def _at(spec: CommandJobSpec, step: str, *field_path: str) -> Iterator[None]:
    try:
        yield
    except (ResolveError, SpecError, RegistryError) as err:
        # the step's field as written (jobs.<step>.<field>); an error located already names it so too
        field, where = spec.field_location(*field_path) if field_path else (f"jobs.{step}", spec.where())
        from_set = err.where is None and " (from " in (err.field or "")  # a --set's value: at no line
        located = err if from_set else err.located(field, where)
        python = f"step '{step}': {located.python_message}" if located.python_message else None
        raise located.reworded(f"step '{step}': {located.message}", field=located.field, where=located.where,
                               hint=located.hint, python_hint=located.python_hint, python_message=python,
                               python_field=located.python_field) from err


def _precheck_step(ws: Workspace, graph: PipelineGraph, node: StepNode, locations: Locations, *,
                   backend: str | None = None, upload_on_failure: bool = True,
                   walked: MutableMapping[Path, str | None] | None = None) -> dict[str, str]:
    """Resolve what ``node`` reads and writes that no other step makes, and each ``direct`` input bound
    to an upstream step's output where that step writes it (``locations``: the upstream steps'); its
    output locations. A step on a Ray compute is checked as its run checks it: on the backend it runs on,
    its outputs without a path on the compute's datastore (``runner.jobs.compute``: the one rule).
    ``walked``: where a step checked as a command job puts its code folder's snapshot warning (its walk's,
    for ``snapshot_warnings``)."""
    spec = node.spec
    with _at(spec, node.name):  # a later step's too, before anything is queued
        refuse_shown_mask(spec, spec.environment_variables, registered=registered_docker_args(node))
    compute = choose_compute(ws, spec).compute
    with _at(spec, node.name):
        try:
            backend = run_backend(compute, backend, upload_on_failure=upload_on_failure)
        except SpecError as err:  # at the line that sends the step there
            given = compute_source(graph.spec, node.name) or ("jobs", node.name)
            raise err.located(*graph.spec.field_location(*given), python_field=err.python_field) from err
    datastore = default_datastore(compute)
    with _at(spec, node.name, "environment"):
        EnvironmentStore(ws).resolve_spec_environment(spec.environment, spec.base_dir)
    if not node.depends_on:
        return _check_as_job(ws, node, datastore=datastore, backend=backend, walked=walked)
    with _at(spec, node.name):  # at the version's line (the error says where)
        refuse_taken_versions(spec, ws)
    resolver = Resolver(ws)
    upstream = tuple(f"azureml://jobs/{other.job_name}/" for other in graph.steps.values())
    bound = {e.input: (e.source, e.output) for e in graph.edges if e.target == node.name}
    inputs: dict[str, ResolvedPath] = {}
    for name, value in spec.inputs.items():
        if not isinstance(value, AssetInput) or value.path is None:
            continue
        with _at(spec, node.name, "inputs", name, "path"):
            if name in bound and value.mode is Mode.DIRECT:  # where the upstream step writes it (not yet)
                source, written = bound[name]
                inputs[name] = resolver.resolve_output(locations[source][written], job_name=node.job_name,
                                                       output_name=name, field=f"inputs.{name}.path",
                                                       check=False)
            elif not value.path.startswith(upstream):
                inputs[name] = resolver.resolve(value.path, base_dir=spec.base_dir,
                                                field=f"inputs.{name}.path")
    guard = WriteGuard(ws, resolver.datastores)
    outputs: dict[str, ResolvedPath] = {}
    for name, output in spec.outputs.items():
        with _at(spec, node.name, "outputs", name, "path"):
            outputs[name] = resolver.resolve_output(output.path, job_name=node.job_name, output_name=name,
                                                    base_dir=spec.base_dir, field=f"outputs.{name}.path",
                                                    default_datastore=datastore, check=False,  # as plan_job
                                                    file=output.type is AssetType.URI_FILE)
            guard.refuse(outputs[name], name=name, job_name=node.job_name, mode=output.mode,
                         is_file=output.type is AssetType.URI_FILE)
    with _at(spec, node.name):  # each error says where: the binding's path: line
        refuse_direct_bindings(spec, inputs, outputs, resolver.datastores, backend=backend)
    return {name: resolved.uri for name, resolved in outputs.items()}


def _check_as_job(ws: Workspace, node: StepNode, *, datastore: str, backend: str | None,
                  walked: MutableMapping[Path, str | None] | None) -> dict[str, str]:
    """A step that reads no other step's output, checked as ``job create`` checks a command job; its
    output locations. Its code folder's snapshot warning goes in ``walked`` (its walk's)."""
    spec = node.spec
    with _at(spec, node.name):  # the plan's errors say where; the rest is the step's
        plan, walk = plan_with_walk(spec, workspace=ws, job_name=node.job_name, default_datastore=datastore)
        check_submission(spec, plan, backend=backend, walk=walk)  # what job create would refuse
    folder = local_code(spec)
    if walked is not None and walk is not None and folder is not None:
        walked[folder] = walk.warning
    return {b.name: b.uri for b in plan.outputs}


def plan_pipeline(ws: Workspace, spec: PipelineJobSpec, *, name: str | None = None,
                  backend: str | None = None, upload_on_failure: bool = True
                  ) -> tuple[PipelineGraph, Locations]:
    """The checked graph and where each step's outputs go (see the module docstring), for the steps run
    on ``backend`` (``job create --backend``; by default each step's compute's; a Ray compute's step on
    docker, ``--backend`` or ``--no-upload-on-failure`` refused there as its run refuses them). Writes
    nothing."""
    graph, locations, _walked = _plan_pipeline(ws, spec, name=name, backend=backend,
                                               upload_on_failure=upload_on_failure)
    return graph, locations


def _plan_pipeline(ws: Workspace, spec: PipelineJobSpec, *, name: str | None, backend: str | None,
                   upload_on_failure: bool) -> tuple[PipelineGraph, Locations, dict[Path, str | None]]:
    """``plan_pipeline``, and the snapshot warning of each code folder a step's check walked."""
    pipeline_name = name or spec.name or generate_job_name()
    check_job_name(pipeline_name, "--name" if name else "name", python_field="name")
    if backend is not None and backend not in BACKENDS:
        raise SpecError(f"unknown backend '{backend}'", field="--backend",
                        hint=f"use one of: {', '.join(BACKENDS)}")
    graph = build_graph(spec, ws, pipeline_name=pipeline_name)
    locations: Locations = {}
    walked: dict[Path, str | None] = {}
    for node in graph.steps.values():  # in dependency order: an upstream step's locations come first
        locations[node.name] = _precheck_step(ws, graph, node, locations, backend=backend,
                                              upload_on_failure=upload_on_failure, walked=walked)
    _refuse_direct_beside_steps(ws, graph, locations)
    return graph, locations, walked


def _refuse_direct_beside_steps(ws: Workspace, graph: PipelineGraph, locations: Locations) -> None:
    """A step's ``direct`` output on a remote store gets credentials for its whole container, which its
    start refuses (``WriteGuard``) when a recorded job (not the step) has an output in a job folder there:
    checked now against what the pipeline's record (its outputs) and every other step's record will hold,
    whichever step runs first, with the start's error at the output's ``path:`` line."""
    pending = [(graph.name, out, locations[step][name]) for out, (step, name) in graph.outputs.items()]
    pending += [(node.job_name, name, uri) for node in graph.steps.values()
                for name, uri in locations[node.name].items()]
    resolver = Resolver(ws)
    guard = WriteGuard(ws, resolver.datastores, pending=pending)
    for node in graph.steps.values():
        for name, output in node.spec.outputs.items():
            if output.mode is not Mode.DIRECT or name not in locations[node.name]:
                continue
            is_file = output.type is AssetType.URI_FILE
            with _at(node.spec, node.name, "outputs", name, "path"):
                resolved = resolver.resolve_output(locations[node.name][name], job_name=node.job_name,
                                                   output_name=name, field=f"outputs.{name}.path",
                                                   check=False, file=is_file)
                guard.refuse(resolved, name=name, job_name=node.job_name, mode=Mode.DIRECT, is_file=is_file)


def _pipeline_inputs(ws: Workspace, spec: PipelineJobSpec) -> dict[str, str]:
    resolver = Resolver(ws)
    found: dict[str, str] = {}
    for name, value in spec.inputs.items():
        if isinstance(value, AssetInput) and value.path is not None:
            try:
                found[name] = resolver.resolve(value.path, base_dir=spec.base_dir, field=f"inputs.{name}",
                                               asset_type=value.type.value).uri  # a model or data asset
            except (ResolveError, SpecError) as err:
                field, where = spec.field_location("inputs", name, "path")
                raise err.located(field, where) from err
    return found


def submit_pipeline(ws: Workspace, spec: PipelineJobSpec, *, name: str | None = None,
                    backend: str | None = None, upload_on_failure: bool = True) -> JobRecord:
    """Check the pipeline and record it as Queued (owned by this process); nothing runs yet."""
    from runner.jobs.recovery import process_start_time  # start-up cost: `job validate` never queues
    from runner.pipelines.record import (  # start-up cost: the pipeline's record (validate writes none)
        NOT_STARTED,
        PIPELINE_KEY,
        STEPS_KEY,
        PipelinePlan,
        secret_env_warnings,
    )

    if not spec.experiment_name:  # Azure's default, the steps' too
        spec = spec.model_copy(update={"experiment_name": default_experiment_name()})
    graph, locations, walked = _plan_pipeline(ws, spec, name=name, backend=backend,
                                              upload_on_failure=upload_on_failure)
    for job in (graph.name, *(n.job_name for n in graph.steps.values())):
        if ws.job_exists(job):
            raise JobError(f"a job named '{job}' exists already",
                           hint="give the pipeline another --name (its steps run as <pipeline>-<step>), or "
                                "omit it to get a generated one",
                           python_hint="give the pipeline another name (name=, or its own; its steps run as "
                                       "<pipeline>-<step>), or none to get a generated one")
    plan = PipelinePlan.from_graph(graph, backend=backend, upload_on_failure=upload_on_failure)
    warnings = [*graph.warnings, *secret_env_warnings(graph), *snapshot_warnings(ws, graph, walked)]
    queued = utcnow()
    record = JobRecord(
        name=graph.name, display_name=spec.display_name or graph.name,  # Azure's default
        experiment_name=spec.experiment_name, created_at=queued, spec=masked_spec(spec.to_yaml_dict()),
        inputs=_pipeline_inputs(ws, spec),
        outputs={out: locations[step][name] for out, (step, name) in graph.outputs.items()},
        runner_pid=os.getpid(), job_dir=str(ws.job_dir(graph.name)),
        extra={PIPELINE_KEY: plan.to_extra(),
               STEPS_KEY: {n: {"job": s.job, "status": NOT_STARTED} for n, s in plan.steps.items()},
               "warnings": warnings,
               "runner_start": process_start_time(os.getpid()),
               "status_times": {JobStatus.QUEUED.value: utc_text(queued)}})
    ws.create_job(record)
    try:
        keep(ws, graph.name, plan.kept_env())  # its steps' secret values, for its orchestrator to take
    except StorageError as exc:  # nothing written (a link at its place: refused): failed, not left Queued
        ws.update_job(graph.name, ending=True, status=JobStatus.FAILED, error=exc.render())
        raise
    ws.job_dir(graph.name).user_logs.mkdir(parents=True, exist_ok=True)
    return record


def start_orchestrator(ws: Workspace, name: str) -> int:
    """Run the pipeline in a detached ``python -m runner.pipelines.worker`` process; record its pid as
    ``JobOperations.start_worker`` records a worker's: while the pipeline is still Queued, in one
    transaction that keeps the rest of its record (a cancel that came meanwhile stands; once the
    orchestrator took the pipeline it recorded itself)."""
    import subprocess  # start-up cost (with signal, selectors): `job validate` starts nothing

    from runner.jobs.recovery import process_start_time  # start-up cost: `job validate` never starts one

    job_dir = ws.job_dir(name)
    command = [sys.executable, "-m", "runner.pipelines.worker", "--workspace", str(ws.root), name]
    with job_dir.runner_log.open("ab") as runner_log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=runner_log,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    ws.update_job(name, only_from={JobStatus.QUEUED}, runner_pid=proc.pid,
                  merge_extra={"runner_start": process_start_time(proc.pid)})
    return proc.pid


def run_pipeline(ws: Workspace, name: str, *, echo: Echo | None = None) -> JobRecord:
    """Run the queued pipeline here (``job create --stream``): its log goes to ``echo`` too."""
    from runner.pipelines.orchestrate import Orchestrator  # start-up cost: the job machinery, to run only

    return Orchestrator(ws, name, echo=echo).run()


def validate_pipeline(ws: Workspace, spec: PipelineJobSpec, *, name: str | None = None,
                      backend: str | None = None) -> tuple[PipelineGraph, Locations, dict[str, str]]:
    """``job validate`` (``job create --dry-run``: on its ``backend``): the checked graph, where outputs
    go, and what would be reused."""
    graph, locations = plan_pipeline(ws, spec, name=name, backend=backend)
    steps = [(n.name, n.job_name, n.spec, n.deterministic, n.depends_on) for n in graph.steps.values()]
    return graph, locations, predict_reuse(ws, steps, force_rerun=spec.settings.force_rerun)
