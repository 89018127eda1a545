"""The web UI's application: every section's routes, the static files, the security middleware, and
how errors become pages.

    app = create_app(MLClient(workspace_dir="ws"), token=secrets.token_urlsafe(32))  # loopback only
    app = create_app(client, token="...", allowed_hosts=None)         # --allow-remote --token ...

Every request must carry ``token`` (``runner.ui.security``); there is no UI without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from runner.client import MLClient
from runner.errors import ResolveError, RunnerError
from runner.pipelines.operations import PipelineJobOperations
from runner.ui import assets, jobs, models, stores
from runner.ui.params import checked
from runner.ui.render import error_json, error_page
from runner.ui.security import LOOPBACK_NAMES, SecurityMiddleware
from runner.ui.words import for_browser

SECTION_ROUTES: tuple[list[BaseRoute], ...] = (jobs.ROUTES, models.ROUTES, assets.DATA_ROUTES, stores.ROUTES)


async def home(request: Request) -> Response:
    return RedirectResponse(request.app.url_path_for("jobs"), status_code=307)


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


async def _runner_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RunnerError)
    exc = for_browser(exc, str(request.app.state.client.workspace.root))  # the UI's words, not the CLI's
    if _is_api(request):
        return error_json(exc)
    return error_page(request, exc)


async def _workspace_error(request: Request, exc: Exception) -> Response:
    """The workspace could not be read (its database or folders): the page says so, not a bare 500. Still
    a 500 (this UI's own files failed), not a datastore's 502: a ``RunnerError``, not a ``StorageError``."""
    root = request.app.state.client.workspace.root
    err = RunnerError(f"cannot read the workspace at {root}: {type(exc).__name__}: {exc}",
                      hint="check that the folder and its runner.db are there and readable; "
                           "`runner job list` shows the same error")
    return await _runner_error(request, err)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code != 404:
        return Response(exc.detail, status_code=exc.status_code)
    err = ResolveError(f"there is no page at {request.url.path}",
                       hint="start from the Jobs, Models or Data list")
    return error_json(err) if _is_api(request) else error_page(request, err)


async def _api_index(request: Request) -> Response:
    checked(dict(request.query_params), {})
    routes = sorted({getattr(r, "path", "") for r in request.app.routes if getattr(r, "path", "")
                     .startswith("/api/")})
    return JSONResponse({"workspace": str(request.app.state.client.workspace.root), "endpoints": routes})


def create_app(client: MLClient, *, token: str,
               allowed_hosts: Iterable[str] | None = LOOPBACK_NAMES, poll_interval: float = 0.2,
               files_root: str | Path | None = None) -> Starlette:
    """The UI for ``client``'s workspace; every request must carry ``token``. ``allowed_hosts`` None: any
    Host header (``--allow-remote``). ``files_root``: the only folder the Register form copies files from
    (default: the current folder)."""
    if not token:
        raise ValueError("the UI needs an access token")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.shutdown = asyncio.Event()  # of this event loop; set at the start of shutdown
        yield
        app.state.shutdown.set()

    routes: list[BaseRoute] = [Route("/", home, name="home"), Route("/api", _api_index, name="api")]
    for section in SECTION_ROUTES:
        routes += section
    routes.append(Mount("/static", StaticFiles(packages=[("runner.ui", "static")]), name="static"))
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(SecurityMiddleware, token=token, allowed_hosts=allowed_hosts)],
                    exception_handlers={RunnerError: _runner_error, HTTPException: _http_error,
                                        sqlite3.Error: _workspace_error, OSError: _workspace_error})
    app.state.client = client
    # the records' own words, as `runner job show` (ml_client.jobs reads a job's error in Python's)
    app.state.jobs = PipelineJobOperations(client.workspace)
    app.state.poll_interval = poll_interval
    app.state.files_root = Path(files_root or Path.cwd()).resolve()  # runner.ui.sources
    app.state.shutdown = asyncio.Event()
    return app
