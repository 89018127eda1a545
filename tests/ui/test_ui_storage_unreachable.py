"""A storage failure behind the UI is the upstream's, not the UI's: a model registered on an Azure datastore
(Azurite) whose datastore is then registered again at a loopback port where nothing listens answers a
download with 502 Bad Gateway (not 500, which says the UI itself broke) and the error the CLI prints, its
hint in the UI's words (the datastore's page, no `runner datastore show --name`); the version's page (and
its /api twin) still shows, 200, with the same words where its files would be. The workspace's own files
failing stays a 500 (tests/ui/test_ui_http.py). Everything in the test's workspace and container."""

from __future__ import annotations

import html
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_support import Browserless, LiveUI

CLI_WORDS = ("--name", "runner datastore show", "ml_client", "--workspace", "RUNNER_WORKSPACE")


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound and never listened on, held for the test: a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _datastore(client: Any, folder: Path, container: Any, account_url: str) -> None:
    from runner.workspace.datastores import load_datastore

    az = container.azurite
    spec = folder / "az.yml"
    spec.write_text(f"name: az\ntype: azure_blob\naccount_name: {az.account}\n"
                    f"container_name: {container.name}\naccount_url: {account_url}\n"
                    f"credentials:\n  account_key: {az.key}\n")
    client.datastores.create_or_update(load_datastore(spec))


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_a_download_from_unreachable_storage_is_a_502_in_the_uis_words(
        live_ui: LiveUI, tmp_path: Path, azure_container: Any, closed_port: int) -> None:
    from azure.storage.blob import ContainerClient

    from runner.entities import Model

    client, az = live_ui.client, azure_container.azurite
    ContainerClient.from_connection_string(az.connection_string, azure_container.name).upload_blob(
        "m/model.pkl", b"weights")
    _datastore(client, tmp_path, azure_container, az.blob_endpoint)
    client.models.create_or_update(Model(name="m", path="azureml://datastores/az/paths/m",
                                         type="custom_model"))
    _datastore(client, tmp_path, azure_container, f"http://127.0.0.1:{closed_port}/{az.account}")
    said = ("cannot connect to the storage service holding 'azureml://datastores/az/paths/m' "
            f"(127.0.0.1:{closed_port}")
    web = Browserless(live_ui.address)

    status, page = web.get("/models/m/versions/1/download")
    text = _text(page)
    assert status == 502, (status, text[-1500:])
    assert said in text and "the page /datastores/az" in text, text[-1500:]
    assert "Internal Server Error" not in page and "Traceback" not in text
    assert not [w for w in CLI_WORDS if w in text], text[-1500:]

    status, page = web.get("/models/m/versions/1")  # the page shows; its files say why there are none
    text = _text(page)
    assert status == 200 and said in text and "the page /datastores/az" in text, (status, text[-1500:])
    assert not [w for w in CLI_WORDS if w in text], text[-1500:]
    status, body = web.get("/api/models/m/versions/1")
    files_error = json.loads(body)["files_error"]
    assert status == 200 and said in files_error and "the page /datastores/az" in files_error, body
    assert not [w for w in CLI_WORDS if w in files_error], files_error
