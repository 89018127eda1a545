"""An archive chain over Azure (``zip://<member>::abfs://<container>/<archive>``) that ``job validate`` plans
without opening and the run cannot open: the run fails with one error that names the input
(``inputs.f``, ``input 'f' cannot be read``) and a hint that fits the cause, never the URL-syntax hint of
a URL fsspec cannot parse: no account to read it with, a container that is not there (Azurite), an
endpoint nothing listens on, a key the service refuses (Azurite)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, write_job

URL_HINT = "an fsspec URL is"


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


@pytest.fixture(autouse=True)
def _no_storage_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """adlfs reads its account from AZURE_STORAGE_* (and fsspec FSSPEC_ABFS): only what a test sets."""
    for name in list(os.environ):
        if name.startswith(("AZURE_STORAGE_", "FSSPEC_")):
            monkeypatch.delenv(name)


def _connection(endpoint: str, key: str) -> dict[str, str]:
    return {"AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                               f"AccountKey={key};BlobEndpoint={endpoint};"}


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(workspace_dir: Path, tmp_path: Path, env: dict[str, str], container: str = "nocontainer"
         ) -> tuple[str, str]:
    """Validate (it passes: nothing is opened) and run the job; its output and the error's hint line."""
    url = f"zip://x.txt::abfs://{container}/a.zip"
    job = write_job(tmp_path, f"""\
        command: cat ${{{{inputs.f}}}}
        environment: python:3.11
        inputs:
          f: {{type: uri_file, path: "{url}", mode: download}}
        """)
    checked = cli(workspace_dir, "job", "validate", "--file", str(job), env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process",
              env=env, timeout=600)  # a closed port: as long as the SDK's retries take, no timing asserted
    shown = ran.stdout + ran.stderr
    assert ran.returncode != 0, shown
    assert "internal error" not in shown and "Traceback" not in shown, shown
    assert "inputs.f: input 'f' cannot be read: " in shown, shown
    assert URL_HINT not in shown, shown
    hints = [line.strip() for line in shown.splitlines() if line.strip().startswith("hint:")]
    assert hints, shown
    return shown, hints[0]


def test_an_archive_whose_account_is_not_known(workspace_dir: Path, tmp_path: Path) -> None:
    shown, hint = _run(workspace_dir, tmp_path, {})
    assert "cannot connect to the storage service holding 'zip://x.txt::abfs://nocontainer/a.zip'" in shown
    assert "AZURE_STORAGE_CONNECTION_STRING" in hint and "<account>" in hint, hint


@pytest.mark.azure
def test_an_archive_in_a_container_that_is_not_there(workspace_dir: Path, tmp_path: Path,
                                                     azurite: Any) -> None:
    shown, hint = _run(workspace_dir, tmp_path, _connection(azurite.blob_endpoint, azurite.key))
    assert "the file 'abfs://nocontainer/a.zip' that 'zip://x.txt::abfs://nocontainer/a.zip' reads does " \
           "not exist" in shown, shown
    assert "last link" in hint, hint


def test_an_archive_on_an_endpoint_nothing_listens_on(workspace_dir: Path, tmp_path: Path) -> None:
    port, key = _closed_port(), "A" * 86 + "=="  # no service to check the key
    shown, hint = _run(workspace_dir, tmp_path, _connection(f"http://127.0.0.1:{port}/devstoreaccount1", key))
    assert "cannot connect to the storage service holding 'zip://x.txt::abfs://nocontainer/a.zip'" in shown
    assert f"127.0.0.1:{port}" in shown, shown
    assert "BlobEndpoint=" in hint and "AZURE_STORAGE_CONNECTION_STRING" in hint, hint


@pytest.mark.azure
def test_an_archive_whose_key_the_service_refuses(workspace_dir: Path, tmp_path: Path,
                                                 azurite: Any) -> None:
    wrong = "A" * 86 + "=="
    shown, hint = _run(workspace_dir, tmp_path, _connection(azurite.blob_endpoint, wrong))
    assert "access to 'zip://x.txt::abfs://nocontainer/a.zip' was denied" in shown, shown
    assert "credentials" in hint and "AZURE_STORAGE_ACCOUNT_KEY" in hint, hint
    assert "register a datastore" not in hint, hint
