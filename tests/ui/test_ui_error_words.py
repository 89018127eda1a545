"""The UI's errors speak to a browser user: the Register form names its own fields (the Type field, not
``--type``), and an unknown job or model (page or ``/api``) names the workspace this UI serves and its
lists, not ``runner job list`` or ``--workspace`` / ``RUNNER_WORKSPACE``."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ui_support import Browserless, LiveUI, model_folder

CLI_WORDS = ("--type", "--workspace", "RUNNER_WORKSPACE", "runner job list", "runner model list",
             "runner data list", "ml_client")


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_register_form_names_its_fields(live_ui: LiveUI) -> None:
    model_folder(live_ui.workspace.parent / "single", {"model.pkl": b"w"})
    web = Browserless(live_ui.address)
    status, _, page = web.request("/register/model", {
        "csrf_token": web.csrf(), "name": "m", "type": "mlflow_model",
        "path": str(live_ui.workspace.parent / "single" / "model.pkl")})
    text = _text(page)
    assert status == 422 and 'id="path-error"' in page and "must be a folder with an MLmodel file" in text
    assert "custom_model in the Type field" in text
    assert not [w for w in CLI_WORDS if w in text]


def test_an_unknown_job_names_the_workspace_the_ui_serves(live_ui: LiveUI) -> None:
    web = Browserless(live_ui.address)
    root = str(Path(live_ui.client.workspace.root))
    status, text = web.get("/api/jobs/nope")
    body = json.loads(text)
    assert status == 404 and "unknown job 'nope'" in body["error"], text
    assert root in body["hint"] and "Jobs list" in body["hint"], body
    assert not [w for w in CLI_WORDS if w in body["hint"]], body
    for path in ("/jobs/nope", "/jobs/nope/log", "/jobs/nope/outputs/o/download"):
        status, page = web.get(path)
        text = _text(page)
        assert status == 404 and "unknown job 'nope'" in text and root in text, (path, text[-2000:])
        assert not [w for w in CLI_WORDS if w in text], (path, text[-2000:])


def test_an_unknown_model_or_data_asset_names_the_ui_lists(live_ui: LiveUI) -> None:
    web = Browserless(live_ui.address)
    for path, noun in (("/api/models/nope", "Models"), ("/api/data/nope", "Data")):
        status, text = web.get(path)
        body = json.loads(text)
        assert status == 404 and "nope" in body["error"], text
        assert f"{noun} list" in body["hint"] and not [w for w in CLI_WORDS if w in body["hint"]], body
    status, page = web.get("/models/nope")
    assert status == 404 and not [w for w in CLI_WORDS if w in _text(page)]


def test_a_command_in_backticks_is_kept(live_ui: LiveUI) -> None:
    """The form's own advice to use a shell for another path is a command, and stays one."""
    web = Browserless(live_ui.address)
    status, _, page = web.request("/register/model", {"csrf_token": web.csrf(), "name": "m",
                                                      "path": "/etc/hostname"})
    assert status == 422 and "runner model create --path &lt;path&gt;" in page
