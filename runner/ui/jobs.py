"""The Jobs section: the list (status, experiment, created, duration, compute; filters; pages; archived
jobs only when the "Show" filter asks, as ``runner job list``) and a job's page (overview, inputs and
outputs with their modes and resolved locations, the live log, Cancel, Archive/Restore (as ``runner job
archive``), downloads, "Register output as model", what became of an output that did not reach its
datastore, and the plan as ``runner job validate`` prints it).
The list is what ``runner job list`` lists: the jobs that are no pipeline's step; a pipeline's steps are
listed with ``parent=<pipeline>`` (as ``--parent-job-name``), linked from its row.
A pipeline's row and page carry its steps, each with its status as its job's record says now
(``runner.pipelines.step_rows``); its page's overview refreshes itself while the pipeline runs. A job's
page lists the versions registered from its outputs (``runner.ui.job_lineage``).

Pages and ``/api/jobs...`` share the view builders below. The live log is ``runner.ui.events``.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from runner.backends import BACKENDS
from runner.errors import JobError, ResolveError, RunnerError
from runner.jobs.cancel_request import still_active
from runner.jobs.job import uris
from runner.jobs.operations import Job, JobOperations
from runner.jobs.recovery import job_dir_of
from runner.jobs.stored_datastores import shown_network
from runner.modes import MODEL_TYPES
from runner.plan.render import render_plan
from runner.plan.stored import plan_from_dict
from runner.plan.types import Binding, RunPlan
from runner.ui import files
from runner.ui.events import job_events
from runner.ui.job_lineage import asset_link, registered_versions
from runner.ui.params import checked, choice, offset, text
from runner.ui.render import error_page, json_time, page_info, render
from runner.ui.security import Handler, protected
from runner.ui.served import refuse_unserved
from runner.uris import ARTIFACTS
from runner.workspace.db import JobStatus
from runner.workspace.upload_state import Incomplete, incomplete_outputs

STATUSES = tuple(s.value for s in JobStatus)
PAGE_SIZE = 50
_MODEL_TYPE_NAMES = {t.value for t in MODEL_TYPES}
# the "Show" filter (as the asset lists'): "" active jobs, "include" archived ones too, "only" archived ones
ARCHIVED_VIEWS = {"": "ActiveOnly", "include": "All", "only": "ArchivedOnly"}  # -> list_view_type
LIST_QUERY = {"status": choice(STATUSES, any_case=True), "experiment": text, "name": text,
              "compute": choice(BACKENDS), "archived": choice(ARCHIVED_VIEWS, empty=False), "parent": text,
              "offset": offset}  # parent "": the jobs `runner job list` lists; a pipeline's name: its steps
LIST_POLL_S = 3  # the list (and a running pipeline's overview) refreshes itself this often
# an output row's keys -> what ``not_uploaded`` says of an output that did not (all) reach its location
_NOT_UPLOADED_FIELDS = (("not_uploaded", "label"), ("not_uploaded_why", "why"), ("kept_at", "kept_at"),
                        ("kept_files", "files"), ("kept_whole", "whole"), ("partly_uploaded", "reached"),
                        ("others_at", "others_at"), ("failed_files", "missing"), ("total_files", "total"),
                        ("kept_on_node", "node"))


def _duration(job: Job) -> float | None:
    if job.started_at and job.ended_at:
        return round((job.ended_at - job.started_at).total_seconds(), 3)
    return None


def step_rows(job: Job) -> list[dict[str, Any]]:
    """A pipeline's steps in plan order: name, status, job (None: the step made none, not started or
    skipped), reused_from, note, error; a command job has none."""
    states = job.extra.get("steps") if job.type == "pipeline" else None
    rows = []
    for step, state in (states if isinstance(states, dict) else {}).items():
        state = state if isinstance(state, dict) else {}
        status = state.get("status")
        made_job = status not in ("NotStarted", "Skipped") and isinstance(state.get("job"), str)
        rows.append({"name": step, "status": status, "job": state["job"] if made_job else None,
                     "reused_from": state.get("reused_from"), "note": state.get("note"),
                     "error": state.get("error")})
    return rows


def job_row(job: Job) -> dict[str, Any]:
    return {"name": job.name, "display_name": job.display_name, "status": job.status.value,
            "experiment_name": job.experiment_name, "created_at": json_time(job.created_at),
            "duration_s": _duration(job), "compute": job.backend,
            "compute_target": job.spec.get("compute"), "exit_code": job.exit_code, "steps": step_rows(job),
            "archived": job.archived, "parent_job_name": job.spec.get("parent_job_name")}


def list_view(ops: JobOperations, params: dict[str, str], *, api: bool = True) -> dict[str, Any]:
    query = checked(params, LIST_QUERY, api=api)
    filters = {k: query[k] for k in ("status", "experiment", "name", "compute", "archived", "parent")}
    ops.reconcile()  # a job whose runner died shows as Failed, as in `runner job list`
    if filters["parent"]:
        ops.workspace.get_job(filters["parent"])  # unknown -> ResolveError -> 404
    page = ops.page(status=filters["status"] or None, experiment_name=filters["experiment"] or None,
                    compute=filters["compute"] or None, name_contains=filters["name"] or None,
                    list_view_type=ARCHIVED_VIEWS[filters["archived"]], offset=query["offset"],
                    limit=PAGE_SIZE, parent_job_name=filters["parent"] or None,
                    top_level=not filters["parent"])
    return {"jobs": [job_row(j) for j in page.items], "page": page_info(page), "filters": filters,
            "statuses": STATUSES, "computes": BACKENDS,
            "active": any(not j.status.is_terminal for j in page.items)}


def _data_link(binding: Binding) -> dict[str, str] | None:
    """``{"name", "version"}`` of the workspace data asset version an input read (a registry's has none:
    its name is ``<registry>/<name>``)."""
    asset = binding.asset
    if asset is None or asset.kind != "data" or asset.version is None or "/" in asset.name:
        return None
    return {"name": asset.name, "version": asset.version}


def _binding_row(binding: Binding, job: Job, given: Any) -> dict[str, Any]:
    in_process = job.backend == "process"
    row = {"name": binding.name, "type": binding.type.value, "mode": binding.mode.value,
           "kind": binding.kind.value, "location": binding.uri,
           "in_job": binding.host_value if in_process else binding.value,
           "given": given.get("path") if isinstance(given, dict) else None,
           "model": asset_link(binding.cache_key),
           "data": _data_link(binding),
           "registers_as": str(binding.registered_as) if binding.registered_as else None}
    return row


def not_uploaded(ops: JobOperations, job: Job) -> dict[str, dict[str, Any]]:
    """The outputs of an ended job that did not (all) reach their location, as its record tells
    (``runner.workspace.upload_state``) -> what the page says of each: ``label`` ("not uploaded", "not
    fully uploaded"), ``why`` (its upload failed, for how many files of how many; its runner stopped
    before uploading it; the job held it back), whether part of it got there (``reached``) and where its
    staged data is kept. A store is never read for it (``check=False``): a page does not wait on a store
    that may be unreachable, so whether a dead runner uploaded part of a remote output may be unknown."""
    if not job.status.is_terminal or job.status is JobStatus.COMPLETED:
        return {}
    record = ops.workspace.get_job(job.name)  # the record's outputs (a Job's are azure.ai.ml's objects)
    return {name: _not_uploaded_state(item) for name, item in
            incomplete_outputs(ops.workspace, record, check=False).items()}


def _not_uploaded_state(item: Incomplete) -> dict[str, Any]:
    if item.missing is not None:  # the record counts the files its upload could not place
        of = _files(item.missing) if item.total is None else f"{item.missing} of {_files(item.total)}"
        why = f"upload failed: {of} could not be uploaded; the job's error says why"
    else:
        why = item.why
    label = "not uploaded" if item.reached is False else "not fully uploaded" if item.reached else \
        "not (all) uploaded"
    kept = f"{item.kept_at} ({_files(item.files)})"
    at = f"on Ray node {item.node} at" if item.node else "at"
    where = f"staged data kept {at} {kept}" if item.whole else \
        f"the files that did not get there are kept {at} {kept}; the others are at {item.location}"
    return {"label": label, "why": why, "kept_at": str(item.kept_at), "files": item.files,
            "whole": item.whole, "reached": item.reached, "others_at": None if item.whole else item.location,
            "missing": item.missing, "total": item.total, "where": where, "hint": item.hint(),
            "node": item.node}


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def _unplanned_input(name: str, uri: str, job: Job) -> dict[str, Any]:
    """An input row of a record with no stored plan (one that ended before it was planned): what the
    record says of it (``runner.jobs.job.JobInput``), every column the page shows."""
    entry = job.inputs[name]
    return {"name": name, "type": getattr(entry, "type", ""), "mode": getattr(entry, "mode", ""),
            "given": None, "location": uri, "in_job": "", "model": None, "data": None}


def _outputs(job: Job, plan: RunPlan | None, missing: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    spec_outputs = job.spec.get("outputs") or {}
    rows = [_binding_row(b, job, spec_outputs.get(b.name)) for b in plan.outputs] if plan else \
        [{"name": n, "type": o.type, "mode": o.mode, "location": o.path, "in_job": "", "given": None,
          "model": None, "registers_as": None} for n, o in job.outputs.items() if n != ARTIFACTS]
    rows.append({"name": ARTIFACTS, "type": "uri_folder", "mode": "upload", "kind": "folder",
                 "location": job.outputs[ARTIFACTS].path, "in_job": "./outputs, ./logs, MLflow artifacts",
                 "given": None, "model": None, "registers_as": None})
    for row in rows:
        row["register_type"] = row["type"] if row["type"] in _MODEL_TYPE_NAMES else "custom_model"
        state = missing.get(row["name"])
        row.update(uploaded=False if state else (True if job.status.is_terminal else None),
                   **{key: state[field] if state else None for key, field in _NOT_UPLOADED_FIELDS})
    return rows


def _warnings(job: Job, plan: RunPlan | None) -> list[str]:
    """Every warning of the job, each once: its plan's, then what its record adds (``extra.warnings``: the
    plan's as submitted, then what its outputs could not keep), as ``runner job show`` lists them."""
    recorded = job.extra.get("warnings")
    found = [*(plan.warnings if plan else ()), *(recorded if isinstance(recorded, list) else ())]
    return list(dict.fromkeys(str(w) for w in found))


def job_view(ops: JobOperations, name: str) -> dict[str, Any]:
    job = ops.refresh(name)  # unknown -> ResolveError -> 404; a pipeline's step rows as they are now
    plan = plan_from_dict(job.extra["plan"]) if job.extra.get("plan") else None
    spec_inputs = job.spec.get("inputs") or {}
    log = job_dir_of(ops.workspace, job).std_log
    steps = step_rows(job)
    in_container = job.backend != "process"  # a job not yet started: the network it will get, its own
    network = shown_network(ops.workspace, job.extra, plan, terminal=job.status.is_terminal,
                            in_container=in_container) if plan else None
    return {
        "job": {**job_row(job), "started_at": json_time(job.started_at),
                "ended_at": json_time(job.ended_at), "error": job.error,
                "image": job.image, "terminal": job.status.is_terminal,
                "outputs_partial": job.outputs_partial, "late_cancel": job.extra.get("late_cancel"),
                **registered_versions(ops.workspace, job, [s["job"] for s in steps if s["job"]]),
                "tags": job.tags, "description": job.description,
                "log_bytes": log.stat().st_size if log.exists() else 0},
        "inputs": [_binding_row(b, job, spec_inputs.get(b.name)) for b in plan.inputs] if plan else
        [_unplanned_input(n, uri, job) for n, uri in uris(job.inputs).items()],
        "literals": dict(plan.literals) if plan else {},
        "outputs": _outputs(job, plan, not_uploaded(ops, job)),
        "plan": render_plan(plan, in_container=in_container, network=network) if plan else None,
        "warnings": _warnings(job, plan),
        "steps": steps,
    }


# ---- pages --------------------------------------------------------------------------------------
async def list_page(request: Request) -> Response:
    """The list; htmx's polling (while a listed job is active) asks for the table alone."""
    view = await run_in_threadpool(list_view, request.app.state.jobs, dict(request.query_params), api=False)
    fragment = request.headers.get("hx-target") == "jobs-table"
    response = render(request, "_jobs_table.html" if fragment else "jobs.html",
                      {**view, "poll_s": LIST_POLL_S})
    response.headers["Vary"] = "HX-Target"
    return response


async def job_page(request: Request) -> Response:
    view = await run_in_threadpool(job_view, request.app.state.jobs, request.path_params["name"])
    return render(request, "job.html", {**view, "notice": None, "fragment": False, "poll_s": LIST_POLL_S})


async def overview(request: Request) -> Response:
    """The overview fragment (htmx swaps it in when the live stream reports a new status)."""
    view = await run_in_threadpool(job_view, request.app.state.jobs, request.path_params["name"])
    return render(request, "_job_overview.html",
                  {**view, "notice": None, "fragment": True, "poll_s": LIST_POLL_S})


@protected
async def cancel(request: Request) -> Response:
    ops: JobOperations = request.app.state.jobs
    name = request.path_params["name"]
    notice = None
    try:
        job = await run_in_threadpool(ops.cancel, name)
        if not job.status.is_terminal:  # its runner holds it: finalizing, or it stops at its next check
            notice = still_active(job)
    except JobError as err:  # already ended: say so where the button was
        if request.headers.get("hx-request") != "true":
            return error_page(request, err, title="Not canceled")
        notice = err.render()
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(request.app.url_path_for("job", name=name), status_code=303)
    view = await run_in_threadpool(job_view, ops, name)
    return render(request, "_job_overview.html", {**view, "notice": notice, "fragment": True,
                                                   "poll_s": LIST_POLL_S})


def archiving(archive: bool) -> Handler:
    """Archive (or restore) a job from its page, as ``runner job archive`` (``restore``): in any status (a
    running job runs on: archiving only hides it from the list); back to its page."""

    @protected
    async def change(request: Request) -> Response:
        ops: JobOperations = request.app.state.jobs
        name = request.path_params["name"]
        await run_in_threadpool(ops.archive if archive else ops.restore, name)  # unknown: 404
        return RedirectResponse(request.app.url_path_for("job", name=name), status_code=303)

    return change


async def download_output(request: Request) -> Response:
    ops: JobOperations = request.app.state.jobs
    name, output = request.path_params["name"], request.path_params["output"]

    def copy(into: Any) -> Any:
        job = ops.get(name)
        state = not_uploaded(ops, job).get(output)
        if state:
            raise ResolveError(f"output '{output}' of job '{name}' was {state['label']} ({state['why']}); "
                               f"{state['where']}", hint=state["hint"])
        location = None
        with suppress(RunnerError):  # not resolvable: the download below says why
            location = request.app.state.client.resolver.resolve(f"azureml://jobs/{name}/outputs/{output}")
        if location is not None:  # served only from inside its datastore (runner.ui.served)
            refuse_unserved(ops.workspace, location)
        try:
            return ops.download(name, download_path=into, output_name=output, quiet=True)[0]
        except RunnerError as err:  # the operation's words are the CLI's (--output-name): say it here
            raise ResolveError(f"output '{output}' of job '{name}' has nothing to download "
                               f"({job.status.value}): {err.message}",
                               hint="the job page shows its outputs and where each one is") from err

    return await files.download(copy, f"{name}-{output}")


async def full_log(request: Request) -> Response:
    ops: JobOperations = request.app.state.jobs
    job = await run_in_threadpool(ops.get, request.path_params["name"])
    log = job_dir_of(ops.workspace, job).std_log
    if not log.exists():
        raise JobError(f"job '{job.name}' has no log yet (it is {job.status.value})")
    return FileResponse(log, filename=f"{job.name}-std_log.txt", media_type="text/plain")


# ---- JSON API -----------------------------------------------------------------------------------
async def api_list(request: Request) -> Response:
    view = await run_in_threadpool(list_view, request.app.state.jobs, dict(request.query_params))
    return JSONResponse(view)


async def api_job(request: Request) -> Response:
    checked(dict(request.query_params), {})
    view = await run_in_threadpool(job_view, request.app.state.jobs, request.path_params["name"])
    return JSONResponse(view)


ROUTES: list[BaseRoute] = [
    Route("/jobs", list_page, name="jobs"),
    Route("/jobs/{name}", job_page, name="job"),
    Route("/jobs/{name}/overview", overview, name="job_overview"),
    Route("/jobs/{name}/events", job_events, name="job_events"),
    Route("/jobs/{name}/log", full_log, name="job_log"),
    Route("/jobs/{name}/cancel", cancel, methods=["POST"], name="job_cancel"),
    Route("/jobs/{name}/archive", archiving(True), methods=["POST"], name="job_archive"),
    Route("/jobs/{name}/restore", archiving(False), methods=["POST"], name="job_restore"),
    Route("/jobs/{name}/outputs/{output}/download", download_output, name="job_output_download"),
    Route("/api/jobs", api_list, name="api_jobs"),
    Route("/api/jobs/{name}", api_job, name="api_job"),
]
