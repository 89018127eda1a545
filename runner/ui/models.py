"""The Models section: the list (latest version per name, filters, archived, pages), a model's page
(versions, details, files, lineage both ways), archive/restore, download, and the Register model form.

Pages and ``/api/models...`` share the view builders below (plain, JSON-ready dicts). A data-asset
section would follow the same shape: its operations (``ml_client.data``), the same builders over them,
and the ``asset`` templates' partials (``_lineage.html``, ``_register_form.html``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from runner.client import MLClient
from runner.errors import RunnerError, SpecError
from runner.jobs.operations import JobOperations
from runner.modes import MODEL_TYPES
from runner.spec.model import DEFAULT_MODEL_TYPE, Model, check_model_fields
from runner.ui import files
from runner.ui.render import field_errors, offset_param, page_info, render
from runner.ui.security import protected
from runner.workspace.lineage import asset_inputs

MODEL_TYPE_CHOICES = tuple(sorted(t.value for t in MODEL_TYPES))
REGISTER_FIELDS = ("name", "version", "type", "path", "description", "tags")
ARCHIVED_VIEWS = {"": (False, False), "include": (True, False), "only": (False, True)}  # include, only
PAGE_SIZE = 50


def model_row(model: Model) -> dict[str, Any]:
    data = model.to_dict()
    return {key: data.get(key) for key in ("name", "version", "type", "description", "tags", "stage",
                                           "created_at", "job_name", "archived", "path")}


# ---- view data (pages and the JSON API) ---------------------------------------------------------
def list_view(client: MLClient, params: dict[str, str]) -> dict[str, Any]:
    archived = params.get("archived", "") if params.get("archived", "") in ARCHIVED_VIEWS else ""
    filters = {"name": params.get("name", "").strip(), "tag": params.get("tag", "").strip(),
               "archived": archived}
    include, only = ARCHIVED_VIEWS[archived]
    page = client.models.page(name_contains=filters["name"] or None, tag=filters["tag"] or None,
                              include_archived=include, archived_only=only,
                              offset=offset_param(params.get("offset")), limit=PAGE_SIZE)
    return {"models": [model_row(m) for m in page.items], "page": page_info(page), "filters": filters}


def model_view(client: MLClient, jobs: JobOperations, name: str, version: str | None,
               params: dict[str, str]) -> dict[str, Any]:
    """A model version (the latest when ``version`` is None), its versions, files and lineage."""
    model = client.models.get(name, version=version)  # unknown -> ResolveError -> 404
    assert model.version is not None
    versions = client.models.page(name, include_archived=True, limit=PAGE_SIZE,
                                  offset=offset_param(params.get("versions_offset")))
    readers = jobs.page(reads_model=(name, None), limit=PAGE_SIZE,
                        offset=offset_param(params.get("readers_offset")))
    view: dict[str, Any] = {
        "model": {**model_row(model), "datastore_uri": model.datastore_uri, "properties": model.properties,
                  "id": model.id},
        "versions": [model_row(m) for m in versions.items], "versions_page": page_info(versions),
        "produced_by": model.job_name,
        "read_by": [_reader(job, name) for job in readers.items], "read_by_page": page_info(readers),
        "files": [], "files_more": False, "files_error": None,
    }
    try:
        found, more = client.models.files(name, model.version, limit=200)
        view.update(files=[{"path": f.path, "size": f.size} for f in found], files_more=more)
    except RunnerError as err:  # the files' storage is unreachable: the rest of the page still shows
        view["files_error"] = err.render()
    return view


def _reader(job: Any, model_name: str) -> dict[str, Any]:
    versions = sorted({version for _input, kind, name, version in asset_inputs(job.extra)
                       if kind == "model" and name == model_name})
    return {"name": job.name, "status": job.status.value, "created_at": job.created_at.isoformat(),
            "versions": versions}


# ---- register -----------------------------------------------------------------------------------
def parse_tags(text: str) -> dict[str, str]:
    """``key=value`` pairs, one per line or separated by commas."""
    tags: dict[str, str] = {}
    for item in (part.strip() for line in text.splitlines() for part in line.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"a tag is key=value, got '{item}'", field="tags", hint="for example stage=prod")
        tags[key.strip()] = value.strip()
    return tags


def register(client: MLClient, values: dict[str, str]) -> Model:
    """Register a model version from the form's values (runner's own checks and errors)."""
    fields: dict[str, Any] = {k: values[k] for k in ("name", "version", "type", "path", "description")
                              if values.get(k)}
    fields["tags"] = parse_tags(values.get("tags", ""))
    try:
        model = Model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SpecError(f"{first['msg']} (got {first.get('input')!r})",
                        field=".".join(str(p) for p in first["loc"])) from exc
    check_model_fields(model)
    return client.models.create(model)


def _form_context(values: dict[str, str], errors: dict[str, Any]) -> dict[str, Any]:
    return {"values": values, "errors": errors, "types": MODEL_TYPE_CHOICES}


async def register_form(request: Request) -> Response:
    values = {k: request.query_params.get(k, "") for k in REGISTER_FIELDS}
    values["type"] = values["type"] if values["type"] in MODEL_TYPE_CHOICES else DEFAULT_MODEL_TYPE
    return render(request, "register_model.html", _form_context(values, {}))


@protected
async def register_submit(request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in REGISTER_FIELDS}
    try:
        created = await run_in_threadpool(register, request.app.state.client, values)
    except RunnerError as err:
        context = _form_context(values, field_errors(err, REGISTER_FIELDS))
        fragment = request.headers.get("hx-request") == "true"
        return render(request, "_register_form.html" if fragment else "register_model.html", context,
                      status_code=422)
    target = request.app.url_path_for("model_version", name=str(created.name), version=str(created.version))
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# ---- pages --------------------------------------------------------------------------------------
async def list_page(request: Request) -> Response:
    view = await run_in_threadpool(list_view, request.app.state.client, dict(request.query_params))
    return render(request, "models.html", view)


async def model_page(request: Request) -> Response:
    name, version = request.path_params["name"], request.path_params.get("version")
    view = await run_in_threadpool(model_view, request.app.state.client, request.app.state.jobs, name,
                                   version, dict(request.query_params))
    return render(request, "model.html", view)


def _archiving(archive: bool) -> Any:
    @protected
    async def change(request: Request) -> Response:
        name = request.path_params["name"]
        version = str((await request.form()).get("version", "")) or None
        models = request.app.state.client.models
        await run_in_threadpool(models.archive if archive else models.restore, name, version)
        target = request.app.url_path_for("model_version", name=name, version=version) if version else \
            request.app.url_path_for("model", name=name)
        return RedirectResponse(target, status_code=303)

    return change


async def download(request: Request) -> Response:
    name, version = request.path_params["name"], request.path_params["version"]
    models = request.app.state.client.models
    return await files.download(lambda into: models.download(name, version, download_path=into, quiet=True),
                                f"{name}-{version}")


# ---- JSON API -----------------------------------------------------------------------------------
async def api_list(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(list_view, request.app.state.client,
                                                dict(request.query_params)))


async def api_model(request: Request) -> Response:
    view = await run_in_threadpool(model_view, request.app.state.client, request.app.state.jobs,
                                   request.path_params["name"], request.path_params.get("version"),
                                   dict(request.query_params))
    return JSONResponse(view)


ROUTES: list[BaseRoute] = [
    Route("/models", list_page, name="models"),
    Route("/register/model", register_form, name="register_model_form"),
    Route("/register/model", register_submit, methods=["POST"], name="register_model"),
    Route("/models/{name}", model_page, name="model"),
    Route("/models/{name}/versions/{version}", model_page, name="model_version"),
    Route("/models/{name}/versions/{version}/download", download, name="model_download"),
    Route("/models/{name}/archive", _archiving(True), methods=["POST"], name="model_archive"),
    Route("/models/{name}/restore", _archiving(False), methods=["POST"], name="model_restore"),
    Route("/api/models", api_list, name="api_models"),
    Route("/api/models/{name}", api_model, name="api_model"),
    Route("/api/models/{name}/versions/{version}", api_model, name="api_model_version"),
]
