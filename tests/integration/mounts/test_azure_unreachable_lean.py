"""The lean Azure client against an endpoint whose host name does not resolve (a wrong account name): a real
download and a real upload through the transfer engine, and a datastore download through the runner's
boundary (``runner.workspace.transfers.fetch``, as ``runner model download`` does it), fail with one clear
error naming the endpoint after a few quick connection attempts, well within the retry budget
(``RUNNER_RETRY_TOTAL_S``), instead of retrying it for the whole of it. (A refused connection, Azurite not
running, is a storage restart and is ridden out in the window: tests/faults/test_fault_storage_start.py.)
The number of connection attempts is asserted, never a duration. No service is needed."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from mounts import retry
from mounts.errors import TransferFailed
from mounts.retry import SDK_CONNECT_RETRIES, RetryPolicy
from mounts.stores.azure import AzureAccount, AzureBlobStore
from mounts.stores.base import RemoteFile
from mounts.transfer.downloader import download_files
from mounts.transfer.uploader import LocalFile, upload_files

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BUDGET_S = 30.0  # the retry budget: a refused connection retried for all of it would take this long
ATTEMPTS = 1 + SDK_CONNECT_RETRIES  # per request, to an endpoint that never answered


@pytest.fixture(autouse=True)
def _no_answers_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint has answered this process (a closed port may be one another test's service had)."""
    if hasattr(retry, "_ANSWERED"):
        monkeypatch.setattr(retry, "_ANSWERED", set())
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", f"{BUDGET_S:g}")


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connection the client tries to make, as (host, port)."""
    made: list[tuple[str, int]] = []
    create = socket.create_connection

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append(address)
        return create(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    return made


@pytest.fixture
def endpoint(unresolvable_host: str) -> str:
    return f"http://{unresolvable_host}:10000/devstoreaccount1"


def _store(endpoint: str) -> AzureBlobStore:
    import base64

    account = AzureAccount(endpoint, "devstoreaccount1", base64.b64decode(KEY))
    return AzureBlobStore(account, retry=RetryPolicy(total_s=BUDGET_S))


def _says_cannot_connect(text: str, endpoint: str) -> None:
    host_port = endpoint.split("//")[1].split("/")[0]
    assert f"cannot connect to {host_port}" in text and endpoint in text, text
    assert f"tried {ATTEMPTS} times" in text, text
    assert KEY not in text and "Traceback" not in text, text


def test_a_download_fails_after_a_few_connection_attempts(tmp_path: Path, endpoint: str,
                                                          connects: list[Any]) -> None:
    files = [RemoteFile(rel=f"{n}.bin", path=f"c/data/{n}.bin", size=1000) for n in ("a", "b")]
    with pytest.raises(TransferFailed) as failure:
        download_files(_store(endpoint), files, tmp_path / "into", tmp_path / "state", quiet=True)
    assert len(connects) == len(files) * ATTEMPTS, connects
    assert str(failure.value).startswith("2 of 2 file(s) could not be downloaded"), failure.value
    _says_cannot_connect(str(failure.value), endpoint)


def test_an_upload_fails_after_a_few_connection_attempts(tmp_path: Path, endpoint: str,
                                                         connects: list[Any]) -> None:
    staged = []
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
        staged.append((LocalFile(name, tmp_path / name, len(name)), f"c/out/{name}"))
    with pytest.raises(TransferFailed) as failure:
        upload_files(_store(endpoint), staged, quiet=True)
    assert len(connects) == len(staged) * ATTEMPTS, connects
    assert str(failure.value).startswith("2 of 2 file(s) could not be uploaded"), failure.value
    _says_cannot_connect(str(failure.value), endpoint)


def test_a_datastore_download_is_one_clear_error(tmp_path: Path, endpoint: str, connects: list[Any]) -> None:
    from runner.errors import StorageError
    from runner.workspace.transfers import azure_filesystem, fetch

    def no_sdk() -> Any:
        raise AssertionError("the lean client signs for this account: adlfs is not made")

    options = {"connection_string": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                    f"AccountKey={KEY};BlobEndpoint={endpoint};"}
    with pytest.raises(StorageError) as failure:
        fetch(azure_filesystem(options, no_sdk), "c/data", tmp_path / "into", is_file=False, quiet=True)
    assert len(connects) == ATTEMPTS, connects  # the listing's first request: nothing else is tried
    text = str(failure.value)
    assert text.startswith("download of c/data: "), text
    _says_cannot_connect(text, endpoint)
