"""Templates and responses shared by every section: the Jinja environment, its filters, HTML and JSON
responses, and how a ``RunnerError`` becomes a page (or a JSON body) that says what went wrong and how
to fix it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from runner.errors import JobError, RegistryError, ResolveError, RunnerError, SpecError, StorageError
from runner.ui.params import QueryError
from runner.ui.security import csrf_token, remember_csrf
from runner.workspace.db import utc_text
from runner.workspace.paging import Page

# The site's sections, in the navigation's order: (title, route name). A new section adds its module's
# routes in ``runner.ui.app`` and one line here.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Jobs", "jobs"), ("Models", "models"), ("Data", "data"), ("Datastores", "datastores"),
    ("Environments", "environments"),
)

# A storage failure (a datastore that cannot be reached, denies access or lost a blob) is 502 Bad Gateway:
# the UI answered, the storage it reads through did not (not 500, which says the UI itself broke; not 503,
# which tells a proxy or a health check that this UI is down). The workspace's own files failing is a 500.
STATUS_FOR_ERROR: tuple[tuple[type[RunnerError], int], ...] = (
    (QueryError, 400), (ResolveError, 404), (SpecError, 422), (RegistryError, 409), (JobError, 409),
    (StorageError, 502),
)


def status_for(err: RunnerError) -> int:
    for kind, status in STATUS_FOR_ERROR:
        if isinstance(err, kind):
            return status
    return 500


def page_info(page: Page[Any]) -> dict[str, Any]:
    """What a page's pager (and the API) says about the rows shown."""
    return {"offset": page.offset, "limit": page.limit, "total": page.total, "shown": len(page.items),
            "next_offset": page.next_offset, "previous_offset": page.previous_offset}


def json_time(value: datetime | None) -> str | None:
    """A timestamp in the JSON API in the project's one form (``runner.workspace.db.utc_text``, as the
    CLI's ``-o json`` prints it): ISO 8601 in UTC ending in ``Z``, a naive time UTC; None stays None."""
    return None if value is None else utc_text(value)


def when(value: Any) -> str:
    """A timestamp (datetime or ISO text) as ``2025-01-31 13:45:06`` in UTC; empty for None."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def size(value: int | None) -> str:
    """Bytes as ``1.2 MiB``."""
    if value is None:
        return ""
    if value < 1024:
        return f"{value} B"
    exponent = min(int(math.log(value, 1024)), 4)
    return f"{value / 1024 ** exponent:.1f} {('KiB', 'MiB', 'GiB', 'TiB')[exponent - 1]}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("runner.ui", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, size=size, duration=duration)
    return env


templates = Jinja2Templates(env=_environment())


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with ``changes`` (a None value drops the key): filters keep their
    values across pages."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page (or an htmx fragment) with what every template uses: the CSRF token, the navigation,
    ``url`` (a route's path) and ``query`` (this page's query string with changes)."""
    base = {"csrf_token": csrf_token(request), "sections": SECTIONS,
            "url": lambda route, **params: request.app.url_path_for(route, **{k: str(v) for k, v in
                                                                             params.items()}),
            "query": lambda **changes: query_with(request, **changes),
            "workspace": str(request.app.state.client.workspace.root)}
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    return remember_csrf(request, response)


def error_page(request: Request, err: RunnerError, *, title: str = "Not available") -> Response:
    return render(request, "error.html", {"title": title, "message": err.message, "hint": err.hint,
                                          "where": err.location()}, status_code=status_for(err))


def error_json(err: RunnerError) -> JSONResponse:
    extra = err.as_json() if isinstance(err, QueryError) else {}
    return JSONResponse({"error": err.message, "hint": err.hint, "field": err.field, **extra},
                        status_code=status_for(err))


def field_errors(err: RunnerError, fields: tuple[str, ...]) -> dict[str, dict[str, str | None]]:
    """A form's errors: runner's message and hint beside the field the error names (one of
    ``fields``), else at the top of the form."""
    field = (err.field or "").split(".")[0].lstrip("-")
    return {field if field in fields else "_form": {"message": err.message, "hint": err.hint}}
