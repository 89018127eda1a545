"""Datastores and environments, read-only. A datastore is shown only through ``public_dict`` (what
``runner datastore show`` prints): every secret is ``***``. (Compute targets join here once runner has
them.)"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from runner.client import MLClient
from runner.ui.params import checked
from runner.ui.render import render
from runner.workspace.datastores import credential_kind, public_dict


def _location(data: dict[str, Any]) -> str:
    kind = data.get("type")
    if kind == "local":
        return str(data.get("path", ""))
    if kind == "fsspec":
        return str(data.get("url", ""))
    container = data.get("container_name") or data.get("filesystem") or ""
    where = data.get("account_url") or data.get("account_name") or ""
    return f"{where}/{container}"


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", "" if value is None else str(value)))
    return rows


def datastores_view(client: MLClient) -> dict[str, Any]:
    rows = []
    for ds in client.datastores.list():
        data = public_dict(ds)
        rows.append({"name": ds.name, "type": data.get("type"), "location": _location(data),
                     "credentials": credential_kind(ds), "description": data.get("description")})
    return {"datastores": rows}


def datastore_view(client: MLClient, name: str) -> dict[str, Any]:
    ds = client.datastores.get(name)  # unknown -> ResolveError -> 404
    data = public_dict(ds)
    return {"datastore": data, "fields": _flatten(data), "credentials": credential_kind(ds)}


def environments_view(client: MLClient) -> dict[str, Any]:
    return {"environments": [e.model_dump(mode="json") for e in client.environments.list()]}


async def datastores_page(request: Request) -> Response:
    view = await run_in_threadpool(datastores_view, request.app.state.client)
    return render(request, "datastores.html", view)


async def datastore_page(request: Request) -> Response:
    view = await run_in_threadpool(datastore_view, request.app.state.client, request.path_params["name"])
    return render(request, "datastore.html", view)


async def environments_page(request: Request) -> Response:
    view = await run_in_threadpool(environments_view, request.app.state.client)
    return render(request, "environments.html", view)


async def api_datastores(request: Request) -> Response:
    checked(dict(request.query_params), {})
    return JSONResponse(await run_in_threadpool(datastores_view, request.app.state.client))


async def api_datastore(request: Request) -> Response:
    checked(dict(request.query_params), {})
    view = await run_in_threadpool(datastore_view, request.app.state.client, request.path_params["name"])
    return JSONResponse({"datastore": view["datastore"], "credentials": view["credentials"]})


async def api_environments(request: Request) -> Response:
    checked(dict(request.query_params), {})
    return JSONResponse(await run_in_threadpool(environments_view, request.app.state.client))


ROUTES: list[BaseRoute] = [
    Route("/datastores", datastores_page, name="datastores"),
    Route("/datastores/{name}", datastore_page, name="datastore"),
    Route("/environments", environments_page, name="environments"),
    Route("/api/datastores", api_datastores, name="api_datastores"),
    Route("/api/datastores/{name}", api_datastore, name="api_datastore"),
    Route("/api/environments", api_environments, name="api_environments"),
]
