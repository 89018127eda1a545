"""The Models section: the list, a version's page, archive/restore, download and the JSON API are the
shared asset section's (``runner.ui.assets``, as for data assets); the Register model form is this
module's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from runner.client import MLClient
from runner.errors import RunnerError, SpecError
from runner.modes import MODEL_TYPES
from runner.spec.model import DEFAULT_MODEL_TYPE, Model, check_model_fields
from runner.ui.assets import MODELS, routes
from runner.ui.render import field_errors, render
from runner.ui.security import protected
from runner.ui.sources import check_form_source
from runner.ui.words import for_browser
from runner.workspace.job_output_state import check_job_output

MODEL_TYPE_CHOICES = tuple(sorted(t.value for t in MODEL_TYPES))
REGISTER_FIELDS = ("name", "version", "type", "path", "description", "tags")
FIELD_LABELS = {field: field.capitalize() for field in REGISTER_FIELDS}  # a hint's --type: the Type field


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


def register(client: MLClient, values: dict[str, str], files_root: Path) -> Model:
    """Register a model version from the form's values (runner's own checks and errors); a local path
    only inside ``files_root``, relative paths relative to it (``runner.ui.sources``)."""
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
    try:
        check_form_source(model.path or "", files_root, client=client, asset_type=model.type)
    except RunnerError:  # a job's output the CLI refuses (not ended, not uploaded) is refused as the CLI says
        check_job_output(client.workspace, model.path, noun="model")
        raise
    return client.models.create(model.model_copy(update={"base_path": str(files_root)}))


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
        created = await run_in_threadpool(register, request.app.state.client, values,
                                          request.app.state.files_root)
    except RunnerError as err:
        err = for_browser(err, str(request.app.state.client.workspace.root), fields=FIELD_LABELS)
        context = _form_context(values, field_errors(err, REGISTER_FIELDS))
        fragment = request.headers.get("hx-request") == "true"
        return render(request, "_register_form.html" if fragment else "register_model.html", context,
                      status_code=422)
    target = request.app.url_path_for("model_version", name=str(created.name), version=str(created.version))
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/register/model", register_form, name="register_model_form"),
    Route("/register/model", register_submit, methods=["POST"], name="register_model"),
    *routes(MODELS),
]
