"""What the Models and Data sections share: a registered asset's list (latest version per name, filters,
archived, pages), a version's page (versions, details, files, lineage), archive/restore and download,
and their JSON API, built once over an ``AssetSection`` (``ml_client.models`` or ``ml_client.data``).

Route names follow the section: ``models``, ``model``, ``model_version``, ``model_download``, ...,
``api_models``; ``data``, ``data_asset``, ``data_version``, ``data_download``, ..., ``api_data``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from runner.client import MLClient
from runner.errors import RunnerError
from runner.jobs.operations import JobOperations
from runner.ui import files
from runner.ui.job_lineage import version_warnings
from runner.ui.params import checked, choice, offset, text
from runner.ui.render import json_time, page_info, render
from runner.ui.security import protected
from runner.ui.served import refuse_unserved
from runner.ui.words import for_browser
from runner.workspace.lineage import job_reads
from runner.workspace.paging import MAX_PAGE_SIZE

ARCHIVED_VIEWS = {"": (False, False), "include": (True, False), "only": (False, True)}  # include, only
LIST_QUERY = {"name": text, "tag": text, "archived": choice(ARCHIVED_VIEWS, empty=False), "offset": offset}
VERSION_QUERY = {"versions_offset": offset, "readers_offset": offset}
PAGE_SIZE = 50
STAYING_SHOWN = 10  # a whole restore's page names this many of the versions that stay archived
FIELDS = ("name", "version", "type", "description", "tags", "stage", "created_at", "job_name", "archived",
          "path")


@dataclass(frozen=True)
class AssetSection:
    key: str  # "model": route names model_version, model_download ...; element ids (#model-fields)
    plural: str  # "models": the URL prefix, the list's route name and its JSON key
    single: str  # the route name (and JSON key) of one asset: "model", "data_asset"
    noun: str  # "model", "data asset"
    operations: Callable[[MLClient], Any]  # the client's asset operations (models, data)

    def route(self, action: str) -> str:
        return self.single if action == "asset" else f"{self.key}_{action}"

    def template_context(self) -> dict[str, Any]:
        return {"kind": {"key": self.key, "plural": self.plural, "single": self.single, "noun": self.noun}}


def asset_row(asset: Any) -> dict[str, Any]:
    data = asset.to_dict()
    return {key: data.get(key) for key in FIELDS}


# ---- view data (pages and the JSON API) ---------------------------------------------------------
def list_view(section: AssetSection, client: MLClient, params: dict[str, str], *,
              api: bool = True) -> dict[str, Any]:
    query = checked(params, LIST_QUERY, api=api)
    filters = {k: query[k] for k in ("name", "tag", "archived")}
    include, only = ARCHIVED_VIEWS[query["archived"]]
    page = section.operations(client).page(name_contains=filters["name"] or None, tag=filters["tag"] or None,
                                           include_archived=include, archived_only=only,
                                           offset=query["offset"], limit=PAGE_SIZE)
    return {section.plural: [asset_row(m) for m in page.items], "page": page_info(page), "filters": filters}


def version_view(section: AssetSection, client: MLClient, jobs: JobOperations, name: str,
                 version: str | None, params: dict[str, str], *, api: bool = True) -> dict[str, Any]:
    """A version (the latest when ``version`` is None), its versions, files and lineage: the jobs that
    read this version, or, on the asset's own page (no version), those that read any of its versions."""
    query = checked(params, VERSION_QUERY, api=api)
    operations = section.operations(client)
    asset = operations.get(name, version=version, label=None if version else "latest")  # unknown: 404
    assert asset.version is not None
    versions = operations.page(name, include_archived=True, limit=PAGE_SIZE, offset=query["versions_offset"])
    view: dict[str, Any] = {
        section.single: {**asset_row(asset), "datastore_uri": asset.datastore_uri,
                         "properties": asset.properties, "id": asset.id},
        "versions": [asset_row(m) for m in versions.items], "versions_page": page_info(versions),
        "produced_by": asset.job_name, "read_by_version": version,
        "warnings": version_warnings(jobs.workspace, asset),  # registered from a job's partial output
        "files": [], "files_more": False, "files_error": None,
    }
    reads, data = (name, version), section.key == "data"  # the lineage index's kind: "model", "data"
    readers = jobs.page(reads_model=None if data else reads, reads_data=reads if data else None,
                        list_view_type="All", limit=PAGE_SIZE, offset=query["readers_offset"])  # archived too
    with jobs.workspace.reading() as conn:  # the index: a reused pipeline step has no plan of its own
        read_by = [_reader(job, job_reads(conn, job.name), section.key, name) for job in readers.items]
    view.update(read_by=read_by, read_by_page=page_info(readers))
    try:
        refuse_unserved(jobs.workspace, _source(client, asset))  # never through a link out (served)
        found, more = operations.files(name, asset.version, limit=200)
        view.update(files=[{"path": f.path, "size": f.size} for f in found], files_more=more)
    except RunnerError as err:  # the files' storage is unreachable: the rest of the page still shows
        view["files_error"] = for_browser(err, str(client.workspace.root)).render()  # the UI's words
    return view


def staying_view(section: AssetSection, client: MLClient, name: str, staying: str) -> dict[str, Any] | None:
    """What a whole restore left archived (``staying``: the versions ``restore_staying`` named, as the
    restore's redirect carries them), those of them archived now (a link cannot claim others): the
    first ``STAYING_SHOWN`` and how many more; None when none."""
    wanted = [v for v in staying.split(",") if v]
    if not wanted:
        return None
    archived = section.operations(client).page(name, archived_only=True, limit=MAX_PAGE_SIZE).items
    still = [v for v in dict.fromkeys(wanted) if v in {a.version for a in archived}]
    if not still:
        return None
    return {"versions": still[:STAYING_SHOWN], "more": max(0, len(still) - STAYING_SHOWN)}


def _source(client: MLClient, asset: Any) -> Any:
    """Where a registered version's files are (its type says whether it is a model or a data asset)."""
    return client.resolver.resolve(f"azureml:{asset.name}:{asset.version}", asset_type=asset.type)


def _download(client: MLClient, operations: Any, name: str, version: str, into: Any) -> Any:
    """The version's files copied into ``into``, once the UI may serve them (``runner.ui.served``)."""
    refuse_unserved(client.workspace, _source(client, operations.get(name, version=version)))
    return operations.download(name, version, download_path=into, quiet=True)


def _reader(job: Any, reads: list[tuple[str, str, str, str]], kind: str, asset_name: str) -> dict[str, Any]:
    versions = sorted({version for _input, k, name, version in reads if k == kind and name == asset_name})
    return {"name": job.name, "status": job.status.value, "created_at": json_time(job.created_at),
            "versions": versions}


def _archiving(section: AssetSection, archive: bool) -> Any:
    """Archive (or restore) a version, or (no version) the whole asset, then back to its page; a whole
    restore's versions archived on their own stay archived: the page names them (``staying_view``)."""

    @protected
    async def change(request: Request) -> Response:
        name = request.path_params["name"]
        version = str((await request.form()).get("version", "")) or None
        operations = section.operations(request.app.state.client)
        staying: list[str] = []
        if archive:
            await run_in_threadpool(operations.archive, name, version)
        else:  # not ``restore``: its warning speaks Python (``ml_client.models.restore``) to a log
            staying = await run_in_threadpool(operations.restore_staying, name, version)
        target = request.app.url_path_for(section.route("version"), name=name, version=version) \
            if version else request.app.url_path_for(section.single, name=name)
        if staying:
            target += "?" + urlencode({"staying": ",".join(staying)})
        return RedirectResponse(target, status_code=303)

    return change


# ---- routes -------------------------------------------------------------------------------------
def routes(section: AssetSection) -> list[BaseRoute]:
    """The section's pages, actions and JSON API."""

    async def list_page(request: Request) -> Response:
        view = await run_in_threadpool(list_view, section, request.app.state.client,
                                       dict(request.query_params), api=False)
        return render(request, "assets.html", {**view, **section.template_context(),
                                               "assets": view[section.plural]})

    async def version_page(request: Request) -> Response:
        client, name, version = request.app.state.client, request.path_params["name"], \
            request.path_params.get("version")
        view = await run_in_threadpool(version_view, section, client, request.app.state.jobs, name, version,
                                       dict(request.query_params), api=False)
        staying = request.query_params.get("staying", "") if version is None else ""  # a whole restore's
        restored = await run_in_threadpool(staying_view, section, client, name, staying) if staying else None
        return render(request, "asset.html", {**view, **section.template_context(),
                                              "asset": view[section.single], "restored": restored})

    async def download(request: Request) -> Response:
        name, version = request.path_params["name"], request.path_params["version"]
        client = request.app.state.client
        operations = section.operations(client)
        return await files.download(lambda into: _download(client, operations, name, version, into),
                                    f"{name}-{version}")

    async def api_list(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(list_view, section, request.app.state.client,
                                                    dict(request.query_params)))

    async def api_version(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(
            version_view, section, request.app.state.client, request.app.state.jobs,
            request.path_params["name"], request.path_params.get("version"), dict(request.query_params)))

    base, api = f"/{section.plural}", f"/api/{section.plural}"
    return [
        Route(base, list_page, name=section.plural),
        Route(base + "/{name}", version_page, name=section.single),
        Route(base + "/{name}/versions/{version}", version_page, name=section.route("version")),
        Route(base + "/{name}/versions/{version}/download", download, name=section.route("download")),
        Route(base + "/{name}/archive", _archiving(section, True), methods=["POST"],
              name=section.route("archive")),
        Route(base + "/{name}/restore", _archiving(section, False), methods=["POST"],
              name=section.route("restore")),
        Route(api, api_list, name=f"api_{section.plural}"),
        Route(api + "/{name}", api_version, name=f"api_{section.single}"),
        Route(api + "/{name}/versions/{version}", api_version, name=f"api_{section.route('version')}"),
    ]


MODELS = AssetSection("model", "models", "model", "model", lambda client: client.models)
DATA = AssetSection("data", "data", "data_asset", "data asset", lambda client: client.data)
DATA_ROUTES = routes(DATA)
