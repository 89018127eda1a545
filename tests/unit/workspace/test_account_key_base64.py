"""An Azure storage account key that is not base64 (the docs' placeholder pasted as is, a key cut short
of its ``=`` padding, URL-safe characters) is refused when a datastore is created, with one error at the
line that holds it naming the field, never echoing the key or any part of it: ``credentials.account_key``,
a connection string's ``AccountKey=``, an abfs fsspec datastore's ``storage_options``. One saved by an
older runner is refused when it is read. A key met at run time (an adlfs filesystem's options, or
``AZURE_STORAGE_CONNECTION_STRING``) is one ``StorageError`` naming where it came from, not the Azure
SDK's "Incorrect padding" said as a denial by the service, nor an internal error. What is accepted is
what the Azure SDK decodes to the same key (``base64.b64decode``, whitespace ignored), no more."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from mounts.errors import MountsError
from mounts.stores.azure_account import account_from_fs, account_from_options, account_key_bytes
from runner.client import DatastoreOperations
from runner.errors import SpecError, StorageError
from runner.workspace.account_keys import is_account_key
from runner.workspace.datastores import DatastoreStore, load_datastore
from runner.workspace.db import Workspace
from runner.workspace.storage_errors import storage_error, written_url_error

GOOD = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
PLACEHOLDER = "<Azurite's published development key>"
BAD_KEYS = [PLACEHOLDER, GOOD.rstrip("="), GOOD.replace("/", "_").replace("+", "-"), "QUJDRA=x",
            "abc", "secretpartXYZ!"]


def _parts(key: str) -> list[str]:
    """Pieces of a key that must not be shown (the placeholder's words but the one the hint has, a run of
    the key)."""
    words = [w for w in key.replace("<", " ").replace(">", " ").split() if len(w) >= 5 and w != "Azurite's"]
    return words + ([key[:12]] if len(key) >= 12 else [key])


def _assert_hidden(key: str, *texts: str | None) -> None:
    shown = "\n".join(t or "" for t in texts)
    for part in _parts(key):
        assert part not in shown, (part, shown)


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ds.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("key", BAD_KEYS)
def test_an_account_key_that_is_not_base64_is_refused_at_its_line(tmp_path: Path, key: str) -> None:
    path = _yaml(tmp_path, "name: azurite\ntype: azure_blob\naccount_name: devstoreaccount1\n"
                           "container_name: models\naccount_url: http://127.0.0.1:10000/devstoreaccount1\n"
                           f"credentials:\n  account_key: {json.dumps(key)}\n")
    with pytest.raises(SpecError) as err:
        load_datastore(path)
    assert err.value.field == "credentials.account_key"
    assert err.value.where is not None and err.value.where.line == 7, err.value.where
    assert "base64" in err.value.message and "account_key" in str(err.value)
    assert "portal" in (err.value.hint or "") and "Azurite's well-known key" in (err.value.hint or "")
    _assert_hidden(key, str(err.value), err.value.message, err.value.hint, err.value.python_hint)


@pytest.mark.parametrize("key", BAD_KEYS[:3])
def test_a_connection_strings_account_key_that_is_not_base64_is_refused(tmp_path: Path, key: str) -> None:
    conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};" \
           "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    path = _yaml(tmp_path, "name: az\ntype: azure_data_lake_gen2\nfilesystem: raw\n"
                           f"connection_string: {json.dumps(conn)}\n")
    with pytest.raises(SpecError) as err:
        load_datastore(path)
    assert err.value.field == "connection_string" and err.value.where is not None
    assert err.value.where.line == 4 and "AccountKey=" in err.value.message
    _assert_hidden(key, str(err.value), err.value.hint)


@pytest.mark.parametrize("options", [
    {"account_name": "devstoreaccount1", "account_key": PLACEHOLDER},
    {"connection_string": f"AccountName=devstoreaccount1;accountkey={PLACEHOLDER};BlobEndpoint=http://h/a"},
])
def test_an_abfs_fsspec_datastores_key_is_checked_too(options: dict[str, Any]) -> None:
    ops = DatastoreOperations(None)  # type: ignore[arg-type]  # refused before anything is saved
    with pytest.raises(SpecError) as err:
        ops.create_or_update({"name": "f", "type": "fsspec", "url": "abfs://c/p", "storage_options": options})
    assert err.value.field == "storage_options" and "base64" in err.value.message
    assert next(iter(k for k in options if k != "account_name")) in err.value.message
    _assert_hidden(PLACEHOLDER, str(err.value), err.value.hint)


def test_other_fsspec_backends_options_are_theirs(tmp_path: Path) -> None:
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    ds = DatastoreOperations(store).create_or_update(
        {"name": "s", "type": "fsspec", "url": "memory://x", "storage_options": {"account_key": "not-b64!"}})
    assert ds.name == "s"


@pytest.mark.parametrize("key", [GOOD, f"  {GOOD}\n", GOOD[:40] + "\n" + GOOD[40:], "QUJD"])
def test_a_base64_key_is_accepted_and_decodes_as_the_sdk_decodes_it(tmp_path: Path, key: str) -> None:
    from azure.storage.blob._shared import decode_base64_to_bytes

    assert is_account_key(key)
    assert account_key_bytes(key, "x") == decode_base64_to_bytes(key)
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    ds = DatastoreOperations(store).create_or_update(
        {"name": "ok", "type": "azure_blob", "account_name": "a", "container_name": "c",
         "credentials": {"account_key": key}, "connection_string": f"AccountName=a;AccountKey={key}"})
    assert ds.name == "ok"


@pytest.mark.parametrize("key", BAD_KEYS)
def test_the_runner_and_the_lean_client_refuse_the_same_keys(key: str) -> None:
    assert not is_account_key(key)
    with pytest.raises(MountsError):
        account_key_bytes(key, "x")


def test_a_datastore_saved_with_such_a_key_by_an_older_runner_is_refused_when_read(tmp_path: Path) -> None:
    store = DatastoreStore(Workspace(tmp_path / "ws"))
    DatastoreOperations(store).create_or_update(
        {"name": "old", "type": "azure_blob", "account_name": "a", "container_name": "c",
         "credentials": {"account_key": GOOD}})
    secret = store._secret_file("old")
    secret.write_text(secret.read_text().replace(GOOD, PLACEHOLDER))
    with pytest.raises(SpecError) as err:
        store.get("old")
    assert "not valid any more" in err.value.message and "credentials.account_key" in err.value.message
    _assert_hidden(PLACEHOLDER, str(err.value), err.value.hint, err.value.python_hint)


def _conn(key: str, port: int = 10000) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")


@pytest.mark.parametrize(("options", "where"), [
    ({"connection_string": _conn(PLACEHOLDER)}, "connection_string"),
    ({"account_name": "a", "account_key": PLACEHOLDER}, "account_key"),
])
def test_the_lean_client_names_the_option_a_bad_key_came_from(options: dict[str, Any], where: str) -> None:
    with pytest.raises(MountsError) as err:
        account_from_options(options)
    assert where in str(err.value) and "base64" in str(err.value)
    _assert_hidden(PLACEHOLDER, str(err.value))


AZURE_VARIABLES = ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME",
                   "AZURE_STORAGE_ACCOUNT_KEY")
ENVIRONMENTS = [({"AZURE_STORAGE_CONNECTION_STRING": _conn(PLACEHOLDER)}, "AZURE_STORAGE_CONNECTION_STRING"),
                ({"AZURE_STORAGE_ACCOUNT_NAME": "devstoreaccount1", "AZURE_STORAGE_ACCOUNT_KEY": PLACEHOLDER},
                 "AZURE_STORAGE_ACCOUNT_KEY")]


@pytest.mark.parametrize(("env", "variable"), ENVIRONMENTS)
def test_a_key_from_the_environment_is_named_as_such(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                     variable: str) -> None:
    from adlfs import AzureBlobFileSystem

    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fs = AzureBlobFileSystem(skip_instance_cache=True)
    with pytest.raises(MountsError) as err:
        account_from_fs(fs)
    assert variable in str(err.value) and "base64" in str(err.value)
    _assert_hidden(PLACEHOLDER, str(err.value))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("env", "variable"), ENVIRONMENTS)
def test_the_sdks_signing_failure_is_said_as_a_bad_key(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                       variable: str) -> None:
    """The SDK signs before it connects: no service is needed to meet its "Incorrect padding"."""
    from adlfs import AzureBlobFileSystem

    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace(":10000/", f":{_closed_port()}/"))
    fs = AzureBlobFileSystem(skip_instance_cache=True)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever the SDK raises, said below
        fs.info("c/a.txt")
    for error in (storage_error(raised.value, "abfs://c/a.txt"),
                  written_url_error(raised.value, "zip://a.txt::abfs://c/d.zip", azure=True)):
        assert isinstance(error, StorageError)
        assert "not base64" in error.message and variable in error.message
        assert "denied" not in error.message and "portal" in (error.hint or "")
        _assert_hidden(PLACEHOLDER, str(error), error.hint, error.python_hint)


def test_base64_semantics_match_the_standard_library() -> None:
    assert account_key_bytes(GOOD, "x") == base64.b64decode(GOOD, validate=True)
