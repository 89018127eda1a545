"""Submitting a job to a Ray compute: plan here, check, record Queued, then one Ray Job per runner job.

    choice = choose_compute(ws, spec)     # a registered Ray compute, or None (runs here) and a note
    record = submit_ray_job(ws, spec, compute=choice.compute, name="j1")

The job is planned against this workspace exactly as a local one (resolution, the modes matrix, the
environment); outputs without a path go to the compute's datastore. Before anything is recorded:
every binding must be on a datastore the nodes can reach (a local folder, an fsspec ``memory://`` or
other store of this machine is refused, all of them named in one error), the cluster must answer, and
one of its nodes must be able to hold the job's resources (else Ray would keep it PENDING for 15
minutes). Then the Ray Job's entrypoint is runner itself on the node (``python -m runner.jobs.node``),
with the plan, the code and the datastore configs it needs in a package of its own
(``runner.jobs.ray_package``); ``runner.jobs.ray_follow`` takes it from there. The node's workspace knows
no registered versions: once the job is recorded (no version is registered where it writes from then on),
its outputs are checked again here against those registered since they were planned.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.backends.docker_args import parse_docker_args
from runner.backends.ray_jobs import RayJobsClient, ResourceRequest, placement_problem, request_from
from runner.errors import BackendError, RunnerError, SpecError
from runner.jobs.compute import default_datastore, run_backend
from runner.jobs.ray_package import job_package, runner_package
from runner.jobs.submit import (
    _located,
    check_submission,
    copy_code,
    new_job_name,
    plan_with_walk,
    queued_record,
    with_docker_args_opt_in,
)
from runner.jobs.supervise import cancel_grace_s
from runner.modes import PathKind
from runner.plan.env_secrets import spec_secret_values
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.uris import DatastorePath, FsspecUrl, LocalPath, parse_path
from runner.workspace.assets import AssetAt, registered_locations
from runner.workspace.computes import RayCompute
from runner.workspace.datastores import AnyDatastore, DatastoreStore, FsspecDatastore, secret_dict
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri
from runner.workspace.job_folders import RAY_CONTROL_FOLDER
from runner.workspace.protect import REFUSAL_HINT, registered_meanwhile
from runner.workspace.resolve import Resolver

log = logging.getLogger(__name__)

CONTROL_PATH = RAY_CONTROL_FOLDER  # on the compute's datastore: <job>/result.json, <job>/runner.log (no
# job output may go there: ``runner.workspace.protect``)
FINALIZE_ALLOWANCE_S = 150.0  # after the container's grace period: finalize the outputs, record
# fsspec protocols whose data a Ray node cannot reach: this process's memory, this machine's files (its
# folders, a git repository here); a chained URL (``simplecache::memory://``, ``zip://a::file:///b.zip``)
# or a wrapper's ``target_protocol`` counts each link. Network ones are taken as reachable.
PROCESS_LOCAL = {"memory": "held in this process's memory"}
MACHINE_LOCAL = {"file": "a folder", "local": "a folder", "asynclocal": "a folder", "git": "a git repository"}


def ray_request(spec: CommandJobSpec, plan: RunPlan) -> ResourceRequest:
    """The job's Ray resource request (``resources.properties.ray``, docker_args limits, gpu_count)."""
    if spec.resources.instance_count > 1:
        raise SpecError(f"resources.instance_count={spec.resources.instance_count}: a job runs as one "
                        "Ray Job on one node", field="resources.instance_count", hint="use 1")
    limits = parse_docker_args(plan.resources.docker_args, allow_unsafe=plan.resources.unsafe_docker_args)
    cpus = limits["nano_cpus"] / 1e9 if "nano_cpus" in limits else None
    return request_from((spec.resources.properties or {}).get("ray"), gpu_count=plan.resources.gpu_count,
                        docker_cpus=cpus, docker_memory=limits.get("mem_limit"))


def refuse_local_data(ws: Workspace, plan: RunPlan, compute: RayCompute) -> None:
    """One error naming every binding (and the compute's datastore) the nodes could not reach."""
    stores = DatastoreStore(ws)
    problems = []
    for binding in plan.bindings:
        where = _local(ws, stores, binding.uri)
        if where:
            problems.append(f"{binding.direction.value} '{binding.name}' ({binding.uri}) {where}")
    compute_ds = stores.get(compute.datastore)
    default_root = compute_ds.host_root(ws.root)
    if default_root is not None:
        problems.append(f"the compute's datastore '{compute.datastore}' (where default outputs and the job's "
                        f"artifacts go) is a folder on this machine ({default_root})")
    elif near := _near(compute_ds):
        problems.append(f"the compute's datastore '{compute.datastore}' (where default outputs and the job's "
                        f"artifacts go) is {near}")
    if problems:
        raise SpecError(f"the nodes of Ray compute '{compute.name}' cannot reach this machine's files: "
                        + "; ".join(problems), field="compute",
                        hint="put the data on a datastore the nodes reach (azure_blob, azure_data_lake_gen2: "
                             "`runner datastore create --file ds.yml`) and point the paths there (and the "
                             f"compute's datastore: `runner compute create --name {compute.name} --datastore "
                             "<it> ...`), or remove compute: to run the job on this machine",
                        python_hint="put the data on a datastore the nodes reach (azure_blob, "
                                    "azure_data_lake_gen2: `ml_client.datastores.create_or_update("
                                    "load_datastore('ds.yml'))`) and point the paths there (and the "
                                    "compute's datastore: `ml_client.compute.create_or_update({'name': "
                                    f"'{compute.name}', 'datastore': '<it>', ...}})`), or remove the job's "
                                    "compute to run it on this machine")


def _local(ws: Workspace, stores: DatastoreStore, uri: str) -> str | None:
    ref = parse_path(uri)
    if isinstance(ref, LocalPath):
        return "is a path on this machine"
    if isinstance(ref, DatastorePath):  # a local one, or an fsspec one over file:// (``host_root``)
        ds = stores.get(ref.datastore)
        host = ds.host_root(ws.root)
        if host:
            return f"is on the datastore '{ds.name}', a folder on this machine ({host})"
        return f"is on the datastore '{ds.name}', {near}" if (near := _near(ds)) else None
    if isinstance(ref, FsspecUrl) and _local_protocol(ref.url):
        return "is on this machine"
    return None


def _near(ds: AnyDatastore) -> str | None:
    """What makes an fsspec datastore unreachable from a node ("fsspec memory:// (held in this
    process's memory on this machine)"), or None."""
    if not isinstance(ds, FsspecDatastore):
        return None
    protocol = _local_protocol(ds.url, str(ds.storage_options.get("target_protocol") or ""))
    if protocol is None:
        return None
    return f"fsspec {protocol}:// ({({**PROCESS_LOCAL, **MACHINE_LOCAL})[protocol]} on this machine)"


def _local_protocol(url: str, *more: str) -> str | None:
    """The first link of a (chained) fsspec URL whose protocol keeps its data in this process or on this
    machine; a link without ``://`` names its protocol alone (``simplecache::``), a path is ``file``."""
    for link in (*url.split("::"), *more):
        if not link:
            continue
        protocol = link.split("://", 1)[0].lower() if "://" in link else \
            ("file" if link.startswith(("/", ".", "~")) else link.lower())
        if protocol in PROCESS_LOCAL or protocol in MACHINE_LOCAL:
            return protocol
    return None


def datastores_for(ws: Workspace, plan: RunPlan, compute: RayCompute) -> list[AnyDatastore]:
    """The datastore configs (with credentials) the node needs: those the plan's URIs name, the Azure
    datastores whose credentials an ``abfs://`` URL reuses, and the compute's own."""
    resolver = Resolver(ws)
    found: dict[str, AnyDatastore] = {}
    names = {compute.datastore}
    for binding in plan.bindings:
        ref = parse_path(binding.uri)
        if isinstance(ref, DatastorePath):
            names.add(ref.datastore)
        elif isinstance(ref, FsspecUrl) and (match := resolver.azure_datastore_for(ref.url)) is not None:
            found[match.name] = match
    for name in sorted(names):
        found[name] = resolver.datastores.get(name)
    return list(found.values())


def check_cluster(client: RayJobsClient, compute: RayCompute, request: ResourceRequest) -> None:
    """The cluster answers and one node can hold ``request``, or one clear error."""
    try:
        nodes = client.nodes()
    except BackendError as err:
        raise BackendError(f"Ray compute '{compute.name}': {err.message}", hint=err.hint) from err
    problem = placement_problem(request, nodes)
    if problem:
        raise BackendError(f"Ray compute '{compute.name}' ({compute.address}) can never run this job: "
                           f"{problem}", hint="change resources.properties.ray (num_cpus, memory, resources) "
                                              "or resources.gpu_count, or add a node that has them")


def control_uri(compute: RayCompute, job_name: str) -> str:
    return f"azureml://datastores/{compute.datastore}/paths/{CONTROL_PATH}/{job_name}"


def submit_ray_job(ws: Workspace, spec: CommandJobSpec, *, compute: RayCompute, name: str | None = None,
                   backend: str | None = None, upload_on_failure: bool = True,
                   allow_unsafe_docker_args: bool = False) -> JobRecord:
    """Plan and check the job, record it Queued, and submit its Ray Job (Failed, and raised, when the
    submission itself fails)."""
    checked = run_backend(compute, backend, upload_on_failure=upload_on_failure)  # the one rule validate uses
    job_name = new_job_name(ws, spec, name)
    known = registered_locations(ws)  # the outputs are checked against these as planned
    plan, walk = plan_with_walk(spec, workspace=ws, job_name=job_name,
                                default_datastore=default_datastore(compute))
    plan = with_docker_args_opt_in(plan, allow_unsafe_docker_args)
    check_submission(spec, plan, backend=checked, walk=walk)
    request = ray_request(spec, plan)
    refuse_local_data(ws, plan, compute)
    client = RayJobsClient(compute.address)
    check_cluster(client, compute, request)
    record = _queued_record(ws, spec, plan, compute, request)
    ws.create_job(record)  # from now on a version is not registered where it writes (active_writers)
    try:
        refuse_registered_meanwhile(ws, spec, plan, known)  # the node's workspace knows no versions
        with _located(spec, "code"):  # a snapshot error (the folder changed since the check): at code:
            copy_code(plan.code_source, ws.job_dir(job_name))
        _submit(ws, client, record, plan, compute, request,
                spec_secret_values(spec, plan.secret_env))  # for the node's run only
    except (RunnerError, OSError) as exc:
        message = exc.render() if isinstance(exc, RunnerError) else f"submitting to Ray failed: {exc}"
        ws.update_job(job_name, ending=True, status=JobStatus.FAILED, error=message)
        raise
    return record


def refuse_registered_meanwhile(ws: Workspace, spec: CommandJobSpec, plan: RunPlan,
                                known: list[AssetAt]) -> None:
    """One ``SpecError`` at the output's ``path:`` line when a version registered since the outputs were
    checked (not in ``known``: between the check and the record) overlaps where an output writes; the write
    guard's rule, as a local job applies it before finalizing (``protect.registered_meanwhile``, both)."""
    resolver = Resolver(ws)
    resolved = {b.name: resolver.resolve_output(b.uri, job_name=plan.job_name, output_name=b.name,
                                                field=f"outputs.{b.name}", check=False,
                                                file=b.kind is PathKind.FILE) for b in plan.outputs}
    for name, why in registered_meanwhile(ws, plan.outputs, resolved, known, resolver.datastores).items():
        err = SpecError(f"output '{name}' cannot be written there: {why} (registered while the job was being "
                        "submitted)", field=f"outputs.{name}", hint=REFUSAL_HINT)
        raise err.located(*spec.field_location("outputs", name, "path"))


def _queued_record(ws: Workspace, spec: CommandJobSpec, plan: RunPlan, compute: RayCompute,
                   request: ResourceRequest) -> JobRecord:
    record = queued_record(ws, spec, plan, backend="docker")
    record.outputs = {**record.outputs, "artifacts": default_artifacts_uri(plan.job_name, compute.datastore)}
    record.extra = {**record.extra, "ray": {
        "compute": compute.name, "address": compute.address, "datastore": compute.datastore,
        "submission_id": plan.job_name, "control": control_uri(compute, plan.job_name),
        "request": {"num_cpus": request.num_cpus, "num_gpus": request.num_gpus, "memory": request.memory,
                    "resources": dict(request.resources)}}}
    return record


def _payload(ws: Workspace, record: JobRecord, plan: RunPlan, compute: RayCompute,
             secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"format": 1, "job": {"name": record.name, "experiment_name": record.experiment_name,
                                 "display_name": record.display_name},
            "submit_job_dir": str(ws.job_dir(record.name)), "plan": plan.to_dict(),
            "datastores": [secret_dict(ds) for ds in datastores_for(ws, plan, compute)],
            "default_datastore": compute.datastore, "control": control_uri(compute, record.name),
            "cancel_grace_s": cancel_grace_s(), "secret_env": dict(secrets or {})}


def _submit(ws: Workspace, client: RayJobsClient, record: JobRecord, plan: RunPlan, compute: RayCompute,
            request: ResourceRequest, secrets: Mapping[str, str] | None = None) -> None:
    modules = []
    if compute.ship_runner:
        # per user, as the image shells are: the same runner serves every workspace
        cache = os.environ.get("RUNNER_CACHE_DIR") or Path.home() / ".cache" / "runner"
        name, path = runner_package(Path(cache))
        modules.append(client.upload_package(name, path))
    build = Path(plan.build_context) if plan.build_context else None
    with tempfile.TemporaryDirectory(prefix="runner-ray-") as folder:
        name, top, path = job_package(Path(folder), _payload(ws, record, plan, compute, secrets),
                                      code=ws.job_dir(record.name).code, build=build)
        modules.append(client.upload_package(name, path))
        os.unlink(path)  # the credentials it holds leave this machine only once, to the cluster
    grace = cancel_grace_s()
    runtime_env = {"py_modules": modules, "env_vars": {
        # Ray's default stop is SIGKILL after 3 s, which would leave the container running and the
        # outputs unfinalized: the node's runner gets its grace period and time to finalize
        "RAY_JOB_STOP_WAIT_TIME_S": str(int(grace + FINALIZE_ALLOWANCE_S)),
        "RUNNER_CANCEL_GRACE_S": f"{grace:g}"}}
    client.submit(f"{compute.python} -m runner.jobs.node {top}", submission_id=record.name,
                  runtime_env=runtime_env, request=request,
                  metadata={"runner_job": record.name, "runner_compute": compute.name})
    log.info("job %s submitted to Ray compute %s (%s)", record.name, compute.name, compute.address)
