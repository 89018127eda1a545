"""Validation is offline: planning checks forms, local paths and registry references and never contacts
storage (a listening socket counts the connections); the run reads the object and tells not found from
cannot connect from access denied. Storage URLs map to the datastore of their account and container."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ResolveError, SpecError, StorageError
from runner.modes import PathKind
from runner.workspace.datastores import datastore_from_dict
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.storage_errors import Failure, classify, storage_error

KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"  # base64, never sent anywhere


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and never answers: each one is counted."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


def connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def azure(ws: Workspace, name: str, port: int, container: str = "datasets", account: str = "acct") -> None:
    Resolver(ws).datastores.save(datastore_from_dict({
        "name": name, "type": "azure_blob", "account_name": account, "container_name": container,
        "account_url": f"http://127.0.0.1:{port}/{account}", "credentials": {"account_key": KEY}}))


@pytest.mark.parametrize("url", [
    "wasbs://datasets@acct.blob.core.windows.net/iris/iris.csv",
    "wasb://datasets@acct.blob.core.windows.net/iris/iris.csv",
    "https://acct.blob.core.windows.net/datasets/iris/iris.csv",
    "abfss://datasets@acct.dfs.core.windows.net/iris/iris.csv",
    "azureml://subscriptions/s/resourceGroups/rg/workspaces/w/datastores/blobs/paths/iris/iris.csv",
])
def test_every_url_form_maps_to_the_datastore_without_contacting_it(
        tmp_path: Path, listener: socket.socket, url: str) -> None:
    ws = Workspace(tmp_path / "ws")
    azure(ws, "blobs", listener.getsockname()[1])
    azure(ws, "other", listener.getsockname()[1], container="elsewhere")
    resolved = Resolver(ws).resolve(url, check=False)
    assert resolved.uri == "azureml://datastores/blobs/paths/iris/iris.csv"
    assert resolved.kind is PathKind.ANY and resolved.path == "datasets/iris/iris.csv"
    assert resolved.env["AZURE_STORAGE_ACCOUNT_NAME"] == "acct"  # the datastore's credentials, for direct
    assert connections(listener) == 0


def test_a_url_no_datastore_names_is_read_anonymously(tmp_path: Path) -> None:
    url = "wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv"
    resolved = Resolver(Workspace(tmp_path / "ws")).resolve(url, check=False)
    assert resolved.uri == url and resolved.kind is PathKind.ANY
    assert resolved.env["AZURE_STORAGE_CONNECTION_STRING"] == (
        "AccountName=azuremlexamples;BlobEndpoint=https://azuremlexamples.blob.core.windows.net;")
    assert getattr(resolved.fs, "credential", None) is None  # no credential chain was set up
    assert "AccountKey" not in str(getattr(resolved.fs, "connection_string", ""))


def test_local_paths_are_still_checked_offline(tmp_path: Path) -> None:
    resolver = Resolver(Workspace(tmp_path / "ws"))
    with pytest.raises(ResolveError, match="does not exist"):
        resolver.resolve(str(tmp_path / "missing"), check=False)
    with pytest.raises(ResolveError, match="does not exist"):
        resolver.resolve("azureml://datastores/workspaceblobstore/paths/missing", check=False)
    with pytest.raises(ResolveError, match="unknown data asset 'nope'"):
        resolver.resolve("azureml:nope@latest", check=False, asset_type="uri_folder")
    with pytest.raises(ResolveError, match="unknown datastore 'nowhere'"):
        resolver.resolve("azureml://datastores/nowhere/paths/x", check=False)


def test_reading_an_unreachable_store_says_cannot_connect(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    azure(ws, "down", closed_port())
    with pytest.raises(StorageError) as info:
        Resolver(ws).resolve("wasbs://datasets@acct.blob.core.windows.net/iris.csv", field="inputs.iris")
    text = info.value.render()
    assert text.startswith("inputs.iris: cannot connect to the storage service holding "
                           "'azureml://datastores/down/paths/iris.csv'")
    assert "account_url" in (info.value.hint or "")


class ServiceRequestError(Exception):
    """Named like azure.core's (classify goes by the class names of the SDK, which it never imports)."""


class HttpResponseError(Exception):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@pytest.mark.parametrize(("exc", "failure"), [
    (FileNotFoundError("x"), Failure.NOT_FOUND),
    (HttpResponseError("The specified blob does not exist.", 404), Failure.NOT_FOUND),
    (HttpResponseError("Server failed to authenticate the request.", 403), Failure.ACCESS_DENIED),
    (PermissionError("denied"), Failure.ACCESS_DENIED),
    (ServiceRequestError("Cannot connect to host 127.0.0.1:1"), Failure.CANNOT_CONNECT),
    (ConnectionRefusedError(111, "refused"), Failure.CANNOT_CONNECT),
    (ValueError("odd"), Failure.OTHER),
])
def test_storage_failures_are_told_apart(exc: BaseException, failure: Failure) -> None:
    assert classify(exc) is failure


def test_a_wrapped_failure_is_classified_by_its_cause() -> None:
    try:
        try:
            raise HttpResponseError("AuthorizationFailure", 403)
        except HttpResponseError as inner:
            raise RuntimeError("adlfs wrapped it") from inner
    except RuntimeError as outer:
        error = storage_error(outer, "wasbs://c@a.blob.core.windows.net/x")
    assert error.message.startswith("access to 'wasbs://c@a.blob.core.windows.net/x' was denied")
    assert "public read access" in (error.hint or "")


def test_malformed_blob_url_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not a valid blob URL"):
        Resolver(Workspace(tmp_path / "ws")).resolve("wasbs://container-without-account/x", check=False)
