"""The web UI over HTTP (the real uvicorn server on 127.0.0.1, no browser): the security rules, no secret
in any page or API response, the forms without JavaScript, the live-log stream's events, paging, and
the JSON API."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI, model_folder, start_ui, submit_job, wait_for

from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, utcnow

SECRET_KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLXNob3du"  # a made-up account key
SAS = "sv=2024-01-01&sig=TOPSECRETSIGNATURE%3D"
CLIENT_SECRET = "sp-client-secret-value-0123456789"
FSSPEC_SECRET = "fsspec-secret-access-key-987654"


def _post_routes(live: LiveUI) -> list[str]:
    """Every POST route of the app, with its path parameters filled in."""
    app = live.server.config.app
    paths = []
    for route in app.routes:
        if "POST" in (getattr(route, "methods", None) or ()):
            assert getattr(route.endpoint, "protected", False), f"{route.path} is a write without @protected"
            paths.append(re.sub(r"\{[^}]+\}", "x", route.path))
    return paths


def test_every_write_needs_the_csrf_token_and_a_same_site_origin(live_ui: LiveUI, tmp_path: Path) -> None:
    web = Browserless(live_ui.address)
    token = web.csrf()  # this browser's cookie, echoed in the form
    posts = _post_routes(live_ui)
    assert {"/register/model", "/jobs/x/cancel", "/models/x/archive", "/models/x/restore"} <= set(posts)
    for path in posts:
        assert web.request(path, {"name": "m"})[0] == 403, path  # no token
        assert web.request(path, {"csrf_token": "forged"})[0] == 403, path
        assert web.request(path, {"csrf_token": token}, {"Origin": "http://evil.example"})[0] == 403, path
        assert web.request(path, {"csrf_token": token}, {"Sec-Fetch-Site": "cross-site"})[0] == 403, path
        other = Browserless(live_ui.address)  # another browser's token is not this one's
        other.csrf()
        assert other.request(path, {"csrf_token": token})[0] == 403, path
    folder = model_folder(tmp_path / "m")
    form = {"csrf_token": token, "name": "m", "path": str(folder)}
    status, headers, _ = web.request("/register/model", form,
                                     {"Origin": live_ui.url, "Sec-Fetch-Site": "same-origin"})
    assert status == 303 and headers["location"] == "/models/m/versions/1"
    status, _, _ = web.request("/models/m/archive", {"version": ""}, {"X-CSRF-Token": token})
    assert status == 303 and live_ui.client.models.get("m", version="1").archived


def test_only_loopback_names_are_answered(live_ui: LiveUI) -> None:
    """A site that re-points its own name at 127.0.0.1 (DNS rebinding) gets nothing."""
    port = live_ui.url.rsplit(":", 1)[1]
    web = Browserless(live_ui.address)
    assert web.get("/jobs", Host=f"evil.example:{port}")[0] == 400
    assert web.get("/api/models", Host="evil.example")[0] == 400
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert web.get("/jobs", Host=host)[0] == 200


def test_a_token_guards_every_request(ui_extra: None, ui_workspace: Path) -> None:
    token = "t0ken-for-this-test-only-0123456789"
    live = start_ui(ui_workspace, token=token, allowed_hosts=None)
    try:
        web = Browserless(live.url)
        status, text = web.get("/jobs")
        assert status == 401 and "access token" in text
        assert web.get("/api/models")[0] == 401
        assert web.get("/static/app.css")[0] == 401
        assert web.get("/jobs", Authorization=f"Bearer {token}")[0] == 200
        assert web.get("/jobs?token=wrong")[0] == 401
        status, headers, _ = web.request(f"/models?token={token}&name=a")
        assert status == 303 and headers["location"] == "/models?name=a"  # the token leaves the URL
        assert "runner_token" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
        assert web.get("/jobs")[0] == 200  # the cookie carries it now
        assert web.get("/jobs", Host="any-name.example")[0] == 200  # --allow-remote: any host name
    finally:
        live.stop()


def test_pages_carry_strict_headers(live_ui: LiveUI) -> None:
    status, headers, _ = Browserless(live_ui.address).request("/jobs")
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "SameSite=strict" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]


def _datastore(ws: Path, folder: Path, name: str, body: str, client: Any) -> None:
    from runner.workspace.datastores import load_datastore

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(f"name: {name}\n{body}")
    client.datastores.create_or_update(load_datastore(path))


def test_no_secret_in_any_page_or_api_response(live_ui: LiveUI, tmp_path: Path, azure_container: Any) -> None:
    """Datastores with every kind of secret, a model stored on Azure and a job that read it in ``direct``
    mode (its credentials go to the job's environment): no page and no API answer shows a secret."""
    client, az = live_ui.client, azure_container.azurite
    _datastore(live_ui.workspace, tmp_path, "az", f"""type: azure_blob
account_name: {az.account}
container_name: {azure_container.name}
account_url: {az.blob_endpoint}
credentials:
  account_key: {az.key}
""", client)
    _datastore(live_ui.workspace, tmp_path, "sas", f"""type: azure_blob
account_name: other
container_name: c
credentials:
  sas_token: "{SAS}"
""", client)
    _datastore(live_ui.workspace, tmp_path, "sp", f"""type: azure_data_lake_gen2
account_name: other
filesystem: f
credentials:
  tenant_id: t
  client_id: c
  client_secret: {CLIENT_SECRET}
""", client)
    _datastore(live_ui.workspace, tmp_path, "fs", f"""type: fsspec
url: memory://bucket
storage_options:
  secret_access_key: {FSSPEC_SECRET}
  client_kwargs: {{headers: {{Authorization: "Bearer {FSSPEC_SECRET}-nested"}}}}
""", client)
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(az.connection_string)
    service.get_blob_client(azure_container.name, "models/m/model.pkl").upload_blob(b"weights")
    client.models.create(Model(name="azm", path="azureml://datastores/az/paths/models/m"))
    given = tmp_path / "credentials-the-job-got.env"  # written by the job, never shown by the UI
    submit_job(client, tmp_path, "reads-azure", f"""
        command: >-
          env | grep -E '^AZURE_STORAGE_(ACCOUNT_KEY|SAS_TOKEN|CONNECTION_STRING)=' > {given} &&
          echo "reads ${{{{inputs.m}}}} with its credentials"
        inputs:
          m: {{type: custom_model, path: azureml:azm:1, mode: direct}}
        """)
    job = wait_for(client, "reads-azure", {"Completed", "Failed"})
    assert job.status.value == "Completed", job.error
    job_secrets = [line.split("=", 1)[1] for line in given.read_text().splitlines()]
    assert job_secrets and all(len(s) > 20 for s in job_secrets)  # the job did get credentials
    web = Browserless(live_ui.address)
    pages = ["/jobs", "/jobs/reads-azure", "/jobs/reads-azure/overview", "/jobs/reads-azure/events",
             "/models", "/models/azm", "/register/model", "/datastores", "/environments", "/api",
             "/api/jobs", "/api/jobs/reads-azure", "/api/models", "/api/models/azm", "/api/datastores",
             "/api/environments"]
    pages += [f"/datastores/{n}" for n in ("az", "sas", "sp", "fs")] + \
             [f"/api/datastores/{n}" for n in ("az", "sas", "sp", "fs")]
    secrets = (az.key, SAS, "TOPSECRETSIGNATURE", CLIENT_SECRET, FSSPEC_SECRET, "AccountKey=", *job_secrets,
               live_ui.token)  # nor the UI's own access token
    for path in pages:
        status, text = web.get(path)
        assert status == 200, (path, status, text[:300])
        assert not [s for s in secrets if s in text], f"a secret in {path}"
    shown = web.json("/api/datastores/az")["datastore"]
    assert shown["credentials"]["account_key"] == "***"
    assert "***" in web.get("/datastores/sp")[1] and "***" in web.get("/datastores/fs")[1]


def test_register_form_without_javascript_shows_errors_beside_fields(live_ui: LiveUI, tmp_path: Path) -> None:
    web = Browserless(live_ui.address)
    token = web.csrf()
    folder = model_folder(tmp_path / "ok")
    cases = [({"name": "bad name!", "path": str(folder)}, "name-error", "invalid model name"),
             ({"name": "m", "path": str(tmp_path / "missing")}, "path-error", "does not exist"),
             ({"name": "m", "path": str(folder), "tags": "novalue"}, "tags-error", "a tag is key=value"),
             ({"name": "m", "path": str(folder / "model.pkl"), "type": "mlflow_model"}, "path-error",
              "must be a folder with an MLmodel file")]
    for values, where, message in cases:
        status, _, text = web.request("/register/model", {"csrf_token": token, **values})
        assert status == 422 and f'id="{where}"' in text and message in text, (values, text[-2000:])
        assert "<h1>Register model</h1>" in text  # the whole page, without htmx
    status, _, text = web.request("/register/model", {"csrf_token": token, "name": "m", "path": str(folder)},
                                  {"HX-Request": "true"})
    assert status == 204
    status, _, text = web.request("/register/model", {"csrf_token": token, "name": "m", "version": "1",
                                                      "path": str(folder)}, {"HX-Request": "true"})
    assert status == 422 and 'id="form-error"' in text and "exists already" in text
    assert "<html" not in text  # htmx gets the form alone


def test_cancel_of_an_ended_job_says_so(live_ui: LiveUI, tmp_path: Path) -> None:
    submit_job(live_ui.client, tmp_path, "quick", "command: echo done\n")
    wait_for(live_ui.client, "quick", {"Completed"})
    web = Browserless(live_ui.address)
    token = web.csrf()
    status, _, text = web.request("/jobs/quick/cancel", {"csrf_token": token})
    assert status == 409 and "already Completed" in text
    status, _, text = web.request("/jobs/quick/cancel", {"csrf_token": token}, {"HX-Request": "true"})
    assert status == 200 and 'id="notice"' in text and "already Completed" in text


def _sse(live: LiveUI, path: str, headers: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(event, id, data) of every event until the stream ends."""
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        extra = "".join(f"{k}: {v}\r\n" for k, v in {**live.bearer, **(headers or {})}.items())
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n{extra}\r\n"
        conn.sendall(request.encode())
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    body = raw.split(b"\r\n\r\n", 1)[1].decode()
    events = []
    for block in re.findall(r"event: .*?(?:\n\n)", re.sub(r"\r\n[0-9a-f]+\r\n", "", body), re.S):
        fields = dict(re.findall(r"^(event|id|data): ?(.*)$", block, re.M))
        events.append((fields.get("event", ""), fields.get("id", ""), fields.get("data", "")))
    return events


def _recorded_job(live: LiveUI, name: str, log: bytes, status: JobStatus) -> Path:
    ws = live.client.workspace
    ws.create_job(JobRecord(name=name, status=status, runner_pid=os.getpid(), created_at=utcnow(),
                            extra={"runner_start": _start_time()}, job_dir=str(ws.job_dir(name).root)))
    path = ws.job_dir(name).std_log
    path.parent.mkdir(parents=True)
    path.write_bytes(log)
    return path


def _start_time() -> str | None:
    from runner.jobs.recovery import process_start_time

    return process_start_time(os.getpid())


def test_the_live_log_stream(live_ui: LiveUI) -> None:
    _recorded_job(live_ui, "done", b"one\n<b>two</b>\nno newline", JobStatus.COMPLETED)
    events = _sse(live_ui, "/jobs/done/events")
    assert events == [("log", "4", "one"), ("log", "15", "<b>two</b>"), ("status", "", json.dumps(
        {"status": "Completed", "terminal": True})), ("log", "25", "no newline"), ("end", "", "Completed")]
    resumed = _sse(live_ui, "/jobs/done/events", {"Last-Event-ID": "4"})
    assert [e for e in resumed if e[0] == "log"] == [("log", "15", "<b>two</b>"), ("log", "25", "no newline")]
    line = b"x" * 1023 + b"\n"
    _recorded_job(live_ui, "long", line * 2048, JobStatus.FAILED)  # 2 MiB: the page gets the last 1 MiB
    events = _sse(live_ui, "/jobs/long/events")
    assert events[0] == ("skipped", "", str(1024 * 1024))
    assert len([e for e in events if e[0] == "log"]) == 1024
    assert _sse(live_ui, "/jobs/nothing/events") == []  # a 404 page, no stream


def test_an_open_stream_does_not_hold_the_server_up(ui_extra: None, ui_workspace: Path) -> None:
    live = start_ui(ui_workspace)
    _recorded_job(live, "running", b"working\n", JobStatus.RUNNING)  # its runner: this process, alive
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(f"GET /jobs/running/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Authorization: Bearer {live.token}\r\n\r\n".encode())
        received = b""
        while b"working" not in received:
            received += conn.recv(65536)
        live.server.should_exit = True
        while chunk := conn.recv(65536):
            received += chunk
    live.thread.join(10)
    assert not live.thread.is_alive()
    assert b"event: shutdown" in received and received.endswith(b"0\r\n\r\n")  # a clean end of the body


def test_lists_are_paged_and_filtered(live_ui: LiveUI) -> None:
    store = live_ui.client.models._registry  # 120 models without copying files: rows are enough here
    with live_ui.client.workspace.transaction() as conn:
        for i in range(120):
            store.ensure_container(conn, f"model-{i:03d}")
            store.insert_version(conn, Model(name=f"model-{i:03d}", version="1", path="azureml://x",
                                             created_at=utcnow(), tags={"even": "yes"} if i % 2 == 0 else {}),
                                 source=None)
    web = Browserless(live_ui.address)
    status, text = web.get("/models")
    assert status == 200 and text.count('data-model="model-') == 50 and "1–50 of 120" in text
    assert 'href="?offset=50"' in text
    status, text = web.get("/models?offset=100")
    assert text.count('data-model="model-') == 20 and "101–120 of 120" in text and 'rel="next"' not in text
    api = web.json("/api/models?tag=even%3Dyes&name=model-01")
    assert [m["name"] for m in api["models"]] == [f"model-01{i}" for i in range(0, 10, 2)]
    assert api["page"]["total"] == 5
    broken = web.json("/api/models/model-000")  # its storage cannot be read: the page still shows
    assert broken["model"]["name"] == "model-000" and broken["files"] == [] and broken["files_error"]


def test_the_api_serves_what_the_pages_show(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    client.models.create(Model(name="base", path=str(model_folder(tmp_path / "base"))))
    submit_job(client, tmp_path, "reader", """
        command: cat ${{inputs.m}}/model.pkl
        inputs:
          m: {type: custom_model, path: azureml:base@latest, mode: ro_mount}
        experiment_name: exp
        """)
    wait_for(client, "reader", {"Completed"})
    web = Browserless(live_ui.address)
    index = web.json("/api")
    assert "/api/jobs/{name}" in index["endpoints"]
    jobs = web.json("/api/jobs?experiment=exp")
    assert [j["name"] for j in jobs["jobs"]] == ["reader"] and jobs["jobs"][0]["compute"] == "process"
    job = web.json("/api/jobs/reader")
    assert job["inputs"][0]["model"] == {"name": "base", "version": "1"}
    assert job["inputs"][0]["given"] == "azureml:base@latest" and job["inputs"][0]["mode"] == "ro_mount"
    assert job["plan"].startswith("job          reader")
    model = web.json("/api/models/base")
    assert [r["name"] for r in model["read_by"]] == ["reader"] and model["read_by"][0]["versions"] == ["1"]
    assert [f["path"] for f in model["files"]] == ["model.pkl"]
    # timestamps as the CLI's -o json prints them (2026-01-02T03:04:05.123456Z), never +00:00
    assert all(job["job"][k].endswith("Z") for k in ("created_at", "started_at", "ended_at"))
    assert jobs["jobs"][0]["created_at"].endswith("Z") and model["read_by"][0]["created_at"].endswith("Z")
    for path in ("/api/jobs", "/api/jobs/reader", "/api/models", "/api/models/base", "/api/environments"):
        assert "+00:00" not in web.get(path)[1], path
    status, text = web.get("/api/models/nope")
    assert status == 404 and json.loads(text)["error"].startswith("unknown model 'nope'")
    status, text = web.get("/api/jobs/nope")
    assert status == 404 and "unknown job 'nope'" in json.loads(text)["error"]


def test_a_page_that_cannot_read_the_workspace_says_why(live_ui: LiveUI) -> None:
    with live_ui.client.workspace.transaction() as conn:
        conn.execute("DROP TABLE model_containers")
    web = Browserless(live_ui.address)
    status, text = web.get("/models")
    assert status == 500 and "cannot read the workspace at" in text and "no such table" in text
    status, text = web.get("/api/models")
    assert status == 500 and json.loads(text)["error"].startswith("cannot read the workspace at")
    assert web.get("/jobs")[0] == 200  # the rest still works


def test_a_job_recorded_without_a_plan_shows_its_inputs(live_ui: LiveUI) -> None:
    """A record that ended before it was planned (no ``extra.plan``) still has a page with its inputs."""
    ws = live_ui.client.workspace
    ws.create_job(JobRecord(name="unplanned", status=JobStatus.FAILED, created_at=utcnow(),
                            inputs={"data": "azureml://datastores/workspaceblobstore/paths/in/"},
                            spec={"inputs": {"data": {"type": "uri_folder", "mode": "download",
                                                      "path": "azureml://datastores/workspaceblobstore/paths/in/"}}},
                            job_dir=str(ws.job_dir("unplanned").root)))
    status, text = Browserless(live_ui.address).get("/jobs/unplanned")
    assert status == 200, text[:500]
    assert "azureml://datastores/workspaceblobstore/paths/in/" in text and ">download<" in text
