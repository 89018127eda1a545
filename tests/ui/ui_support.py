"""Helpers for the UI tests: model folders, jobs run as host processes (``--backend process``: the
Docker engine is not reachable from a loopback-only namespace), waiting, and small HTTP calls."""

from __future__ import annotations

import http.cookiejar
import json
import re
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LiveUI:
    url: str
    client: Any  # runner.client.MLClient
    server: Any
    thread: threading.Thread

    @property
    def workspace(self) -> Path:
        return Path(self.client.workspace.root)

    def stop(self) -> float:
        started = time.monotonic()
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "uvicorn did not stop"
        return time.monotonic() - started


def start_ui(workspace: Path, **app_options: Any) -> LiveUI:
    from runner.client import MLClient
    from runner.ui.app import create_app
    from runner.ui.server import bind, make_server, url_of

    client = MLClient(workspace_dir=workspace)
    app_options.setdefault("files_root", workspace.parent)  # the tests' model folders are beside it
    app = create_app(client, poll_interval=0.1, **app_options)
    server = make_server(app)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="runner-ui")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
        time.sleep(0.01)
    return LiveUI(url_of(sock), client, server, thread)


def model_folder(root: Path, files: dict[str, bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in (files or {"model.pkl": b"weights"}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def submit_job(client: Any, folder: Path, name: str, body: str) -> Any:
    """Write ``body`` (job YAML without ``compute``) and run it in a background worker, as a host
    process (``compute: local-process``)."""
    from runner import load_job

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    host_process = "compute: local-process\nenvironment:\n  image: host:1\n"
    path.write_text(textwrap.dedent(body).lstrip() + host_process)
    return client.jobs.create_or_update(load_job(path), name=name)


def wait_for(client: Any, name: str, statuses: set[str], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.jobs.get(name)
        if job.status.value in statuses:
            return job
        assert time.monotonic() < deadline, f"job {name} stayed {job.status.value} (wanted {statuses})"
        time.sleep(0.1)


class Browserless:
    """A cookie-keeping HTTP client for the UI's pages, forms and API (no JavaScript)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode("utf-8", "replace")

    def get(self, path: str, **headers: str) -> tuple[int, str]:
        status, _, text = self.request(path, headers=headers)
        return status, text

    def json(self, path: str) -> Any:
        status, text = self.get(path)
        assert status == 200, (path, status, text[:500])
        return json.loads(text)

    def csrf(self, path: str = "/register/model") -> str:
        status, text = self.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', text)
        assert status == 200 and match, (status, text[:500])
        return match.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the tests look at 303s themselves
