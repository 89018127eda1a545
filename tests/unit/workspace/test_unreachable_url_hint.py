"""A store this machine cannot reach is blamed on what the user gave: an input's URL that no datastore
holds (read anonymously) is said to be the URL's host and port to check, never "the datastore's
account_url"; a path through a datastore (``azureml://datastores/<ds>/...``, or a storage URL of a
datastore's account and container) names that datastore, in the CLI's words and in Python's."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runner.errors import StorageError
from runner.workspace.datastores import datastore_from_dict
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.storage_errors import storage_error

KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"  # base64, never sent anywhere


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _refused(ws: Workspace, path: str) -> StorageError:
    with pytest.raises(StorageError) as info:
        Resolver(ws).resolve(path, field="inputs.d")
    return info.value


@pytest.mark.parametrize("url", ["https://127.0.0.1:{port}/c/x.csv", "http://127.0.0.1:{port}/acct/c/x.csv"])
def test_a_url_no_datastore_holds_is_the_url_to_check(tmp_path: Path, url: str) -> None:
    port = _closed_port()
    given = url.format(port=port)
    err = _refused(Workspace(tmp_path / "ws"), given)
    assert err.message.startswith(f"cannot connect to the storage service holding '{given}'"), err.message
    for text in (err.render(), str(err)):
        hint = text.split("\n  hint: ", 1)[1]
        assert "datastore's" not in hint and "account_url" not in hint, hint
        assert "runner datastore show" not in hint and "ml_client.datastores.get" not in hint, hint
        assert "the URL" in hint and "host and port" in hint, hint


def test_a_path_through_a_datastore_names_that_datastore(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    Resolver(ws).datastores.save(datastore_from_dict({
        "name": "down", "type": "azure_blob", "account_name": "acct", "container_name": "c",
        "account_url": f"http://127.0.0.1:{_closed_port()}/acct", "credentials": {"account_key": KEY}}))
    for path in ("azureml://datastores/down/paths/x.csv", "wasbs://c@acct.blob.core.windows.net/x.csv"):
        err = _refused(ws, path)
        assert "'azureml://datastores/down/paths/x.csv'" in err.message, err.message
        assert "datastore 'down'" in (err.hint or "") and "account_url" in (err.hint or ""), err.hint
        assert "`runner datastore show --name down`" in err.render()
        assert "`ml_client.datastores.get('down')`" in str(err)


def test_a_datastore_whose_client_cannot_be_made_is_named_in_both_words(tmp_path: Path) -> None:
    ds = datastore_from_dict({"name": "odd", "type": "azure_blob", "account_name": "acct",
                              "container_name": "c"})
    with pytest.raises(StorageError) as info:
        ds._adlfs({"account_name": "acct", "connection_string": "garbage"})  # the SDK refuses it
    err = info.value
    assert err.message == "cannot connect datastore 'odd': ValueError"
    assert "`runner datastore show --name odd`" in err.render()
    assert "`ml_client.datastores.get('odd')`" in str(err) and "runner datastore" not in str(err)


class HttpResponseError(Exception):
    """Named like azure.core's (``classify`` goes by the class names of the SDK, which it never imports)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@pytest.mark.parametrize("exc", [HttpResponseError("AuthorizationFailure", 403), ValueError("odd")])
def test_other_failures_are_worded_for_the_url_or_the_datastore(exc: Exception) -> None:
    url = storage_error(exc, "wasbs://c@a.blob.core.windows.net/x")
    for text in (url.render(), str(url)):
        for blamed in ("the datastore's", "datastore show", "datastores.get"):
            assert blamed not in text, text
    through = storage_error(exc, "azureml://datastores/ds/paths/x", datastore="ds")
    assert "datastore 'ds'" in (through.hint or ""), through.hint
