"""A blob container that does not exist is an answer (404 ``ContainerNotFound``), not an outage: the lean
client asks once and does not retry it; planning's look at a path on it (``resolve._stat``) says one error
naming the container, the account and the datastore, with both fixes; a failed upload's hint says to
create it (never "once the storage answers again"). A loopback listener of the test's own plays Azure:
it answers every request 404 ``ContainerNotFound`` and counts them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mounts.errors import TransferFailed, missing_container
from mounts.retry import RetryPolicy
from mounts.stores.azure import AzureAccount, AzureBlobStore, AzureHTTPError
from mounts.stores.deferred import DeferredAzureFileSystem
from runner.errors import StorageError, TransferError
from runner.workspace.resolve import _stat
from runner.workspace.storage_errors import (
    Failure,
    classify,
    lacks_container,
    names_no_container,
    no_container,
)
from runner.workspace.transfers import translated

KEY = b"key-never-sent-anywhere"
LONG = RetryPolicy(total_s=5, first_delay_s=0.01, max_delay_s=0.02)  # a retry would show as a 2nd request


@contextlib.contextmanager
def _no_container_service() -> Iterator[tuple[str, list[str]]]:
    """An Azure stand-in on loopback whose every answer is 404 ContainerNotFound; (endpoint, requests)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.rfile.read(int(self.headers.get("Content-Length") or 0))  # a PUT's body: read, not kept
            self.send_response(404, "The specified container does not exist.")
            self.send_header("x-ms-error-code", "ContainerNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/devstoreaccount1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _account(endpoint: str) -> AzureAccount:
    return AzureAccount(endpoint, "devstoreaccount1", KEY, None)


def test_the_lean_client_asks_once_and_says_which_code() -> None:
    with _no_container_service() as (endpoint, seen):
        store = AzureBlobStore(_account(endpoint), retry=LONG)
        with pytest.raises(AzureHTTPError) as failure:
            store.write_small("gone/x/a.txt", b"a", None)
        assert seen == ["PUT /devstoreaccount1/gone/x/a.txt"]  # not retried: an answer
        assert failure.value.status == 404 and failure.value.code == "ContainerNotFound"
        with pytest.raises(FileNotFoundError) as missing:
            store.folder_exists("gone/x")
        assert len(seen) == 2 and names_no_container(missing.value)
        assert classify(missing.value) is Failure.NOT_FOUND  # found missing, not unreachable


def test_a_path_on_a_missing_container_is_one_error_naming_container_account_and_datastore() -> None:
    with _no_container_service() as (endpoint, seen):
        fs = DeferredAzureFileSystem(_account(endpoint), make=SimpleNamespace)  # the lean client answers
        with pytest.raises(StorageError) as failure:
            _stat(fs, "gone/x/in", "k:", "azureml://datastores/lake/paths/x/in",  # type: ignore[arg-type]
                  datastore="lake")
    err = failure.value
    assert err.message == ("the container 'gone' does not exist in the storage account 'devstoreaccount1' "
                           "(datastore 'lake')"), err.message
    assert err.hint is not None and "create the container 'gone'" in err.hint
    assert "`container_name`" in err.hint and "datastore 'lake'" in err.hint
    assert "answers again" not in err.render() and KEY.decode() not in err.render()
    assert len(seen) == 2  # Get Blob Properties, one List Blobs: nothing retried


def test_a_missing_blob_in_a_container_that_exists_is_only_not_found() -> None:
    blob_gone = FileNotFoundError("c/x")
    blob_gone.__cause__ = AzureHTTPError(404, "BlobNotFound", "stat c/x")
    assert not names_no_container(blob_gone) and not names_no_container(FileNotFoundError("c/x"))
    assert not lacks_container(object(), "c/x", blob_gone)  # not adlfs': nothing asked


def test_the_sdks_words_are_read_too() -> None:
    class ResourceNotFoundError(Exception):  # azure-core's, by name: its error_code attribute
        error_code = "ContainerNotFound"

    wrapped = OSError("listing failed")
    wrapped.__context__ = ResourceNotFoundError("The specified container does not exist.")
    assert names_no_container(wrapped)
    assert names_no_container(Exception("Status code 404 ErrorCode:FilesystemNotFound"))


def test_without_a_datastore_the_hint_names_the_url() -> None:
    err = no_container("gone", None)
    assert err.message == "the container 'gone' does not exist" and "named in the URL" in (err.hint or "")


def test_which_container_a_failed_transfer_says_is_missing() -> None:
    upload = ("1 of 1 file(s) could not be uploaded (u.txt: AzureHTTPError: write gone/x/u/u.txt: HTTP 404 "
              "ContainerNotFound)")
    assert missing_container(TransferFailed(upload, ["u.txt"])) == "gone"
    rw_mount = TransferFailed("1 file(s) could not be uploaded", ["b"],
                              reasons=("write block 3 of gone/big.bin: HTTP 404 ContainerNotFound",))
    assert missing_container(rw_mount) == "gone"
    sdk = TransferFailed("1 of 1 file(s) could not be uploaded (a: ErrorCode:ContainerNotFound)", ["a"])
    assert missing_container(sdk) == ""  # the SDK's words: no name
    outage = TransferFailed("write c/a: HTTP 503 ServerBusy", ["a"], reasons=("a: connection refused",))
    assert missing_container(outage) is None


UPLOADS = "1 of 1 file(s) could not be uploaded (u.txt: AzureHTTPError: write gone/x/r/u.txt: HTTP 404 " \
    "ContainerNotFound)"


@pytest.mark.parametrize("reasons", [(), (f"TransferFailed: {UPLOADS}",)])  # upload's words, rw_mount's
def test_a_failed_upload_says_to_create_the_container_not_to_wait(tmp_path: Path, reasons: tuple[str, ...]
                                                                   ) -> None:
    rw_mount = "1 file(s) written to abfs://gone/x/r could not be uploaded (kept in s): u.txt"
    message = rw_mount if reasons else UPLOADS
    with pytest.raises(TransferError) as failure, translated("output 'o' (upload to az://gone/x)", job="j7"):
        raise TransferFailed(message, ["u.txt"], staged=tmp_path, reasons=reasons)
    hint = failure.value.hint or ""
    assert "the container 'gone' does not exist: create it" in hint, hint
    assert "once it exists, `runner job finalize --name j7` uploads it" in hint, hint
    assert "answers again" not in hint and failure.value.staged == tmp_path


def test_an_outage_keeps_the_outage_hint(tmp_path: Path) -> None:
    with pytest.raises(TransferError) as failure, translated("output 'o'", job="j7"):
        raise TransferFailed("1 of 1 file(s) could not be uploaded (a: connection refused)", ["a"],
                             staged=tmp_path)
    assert "once the storage answers again" in (failure.value.hint or "")
    assert "does not exist" not in (failure.value.hint or "")
