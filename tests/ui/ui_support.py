"""Helpers for the UI tests: model folders, jobs run as host processes (``--backend process``: the
Docker engine is not reachable from a loopback-only namespace), waiting, and small HTTP calls.

Every UI needs its access token (``runner.ui.security``), as ``runner ui`` does: ``LiveUI.address`` is
the address it would print (``http://127.0.0.1:<port>/?token=...``); ``Browserless(address)`` opens it
once, as a browser would, and keeps the cookie. ``Browserless(live.url)`` is a client without it."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LiveUI:
    url: str
    client: Any  # runner.client.MLClient
    server: Any
    thread: threading.Thread
    token: str

    @property
    def workspace(self) -> Path:
        return Path(self.client.workspace.root)

    @property
    def address(self) -> str:
        """The address ``runner ui`` prints for this UI: its access token in the query."""
        return f"{self.url}/?token={self.token}"

    @property
    def bearer(self) -> dict[str, str]:
        """The header a script sends instead of the cookie."""
        return {"Authorization": f"Bearer {self.token}"}

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
    app_options.setdefault("token", secrets.token_urlsafe(32))  # as `runner ui` makes one
    app = create_app(client, poll_interval=0.1, **app_options)
    server = make_server(app)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="runner-ui")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
        time.sleep(0.01)
    return LiveUI(url_of(sock), client, server, thread, app_options["token"])


@dataclass
class CliUI:
    """A ``runner ui`` process and the lines it printed once it answered."""
    proc: subprocess.Popen[str]
    workspace_line: str
    address: str
    sources_line: str

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: the address without its path and token."""
        parts = urllib.parse.urlsplit(self.address)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token(self) -> str:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.address).query)).get("token", "")

    def stop(self) -> tuple[str, str]:
        """SIGTERM, then everything it printed after its first three lines (stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=20)
        return out, err


@contextlib.contextmanager
def cli_ui(workspace: Path, *args: str, cwd: Path | None = None) -> Iterator[CliUI]:
    """``runner --workspace <workspace> ui --port 0 ARGS``, stopped afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "runner", "--workspace", str(workspace), "ui", "--port",
                             "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "RUNNER_FORKSERVER": "0"})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
        assert lines[0].startswith("runner ui: workspace "), (lines, proc.stderr and proc.stderr.read())
        yield CliUI(proc, lines[0], lines[1].strip(), lines[2])
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def raw_request(origin: str, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> tuple[int, dict[str, str], str]:
    """One request with exactly this request target and these headers (no cookie jar, no redirects):
    what a script on this machine can send. Headers are lower-cased; ``set-cookie`` joins them all."""
    parts = urllib.parse.urlsplit(origin)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        found: dict[str, str] = {}
        for key, value in response.getheaders():
            key = key.lower()
            found[key] = f"{found[key]}\n{value}" if key in found else value
        return response.status, found, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


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
    """A cookie-keeping HTTP client for the UI's pages, forms and API (no JavaScript). Given the address
    ``runner ui`` prints (``...?token=...``), it opens it first, as a browser does: the UI answers with
    its token cookie and the address without the token."""

    def __init__(self, address: str) -> None:
        parts = urllib.parse.urlsplit(address)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        if parts.query:
            status, headers, text = self.request(f"{parts.path or '/'}?{parts.query}")
            assert status == 303 and "runner_token" in headers.get("set-cookie", ""), (status, text[:300])
            assert "token=" not in headers["location"], headers["location"]

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
