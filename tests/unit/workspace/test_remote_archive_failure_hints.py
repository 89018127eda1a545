"""An archive chain over remote storage that cannot be opened when the job runs (``check=True``) is one
error that names the input (its field and ``input '<name>' cannot be read``) and whose hint fits the cause,
as ``storage_errors.classify`` tells it: unreachable (the host, the account and endpoint the link is read
with), denied (the credentials it is read with), missing (the archive's path); a store's client that could
not be made from the URL (adlfs' ``ValueError("unable to connect to account for ...")``) is no URL-syntax
error. Nothing here reaches a network: the stores are fakes, their failures the Azure SDK's by name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry

from runner.errors import ResolveError, RunnerError
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

FIELD = "inputs.f"


class ServiceRequestError(Exception):
    """The Azure SDK's, by name: no connection could be made."""


class ClientAuthenticationError(Exception):
    """The Azure SDK's, by name: the service refused the credentials."""

    status_code = 403


class _Failing(MemoryFileSystem):
    """A store elsewhere whose filesystem cannot be made: ``__init__`` raises what ``failure`` gives."""

    protocol = ("s39m-store",)
    failure: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise type(self).failure()


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Failing]]:
    monkeypatch.setitem(_registry, "s39m-store", _Failing)  # fsspec's registry: as it was, afterwards
    yield _Failing
    _Failing.failure = None


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    return Resolver(Workspace(tmp_path / "ws"))


def _raising(exc: BaseException, cause: BaseException | None = None) -> Any:
    """What a store's ``__init__`` raises: ``exc``, its cause ``cause`` (as ``raise exc from cause``)."""
    def make() -> BaseException:
        exc.__cause__ = cause
        return exc
    return make


def _run_error(resolver: Resolver, url: str) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        resolver.resolve(url, field=FIELD, check=True)
    return info.value


def _azure_fails(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    import fsspec.core

    def fail(url: str, **_: Any) -> Any:
        raise exc

    monkeypatch.setattr(fsspec.core, "url_to_fs", fail)


def test_an_azure_archive_whose_account_is_not_known_names_the_input_and_the_account(
        resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):  # adlfs reads its account from these: none here, so nothing is contacted
        if name.startswith(("AZURE_STORAGE_", "FSSPEC_")):
            monkeypatch.delenv(name)
    url = "zip://x.txt::abfs://nocontainer/a.zip"
    err = _run_error(resolver, url)
    assert err.field == FIELD and err.message.startswith("input 'f' cannot be read: "), err.message
    assert f"cannot connect to the storage service holding '{url}'" in err.message, err.message
    assert "unable to connect to account" in err.message
    hint = err.hint or ""
    assert "an fsspec URL is" not in hint, hint  # no URL-syntax hint: the URL is well formed
    assert "AZURE_STORAGE_CONNECTION_STRING" in hint and "<account>" in hint, hint


def test_an_unreachable_azure_archive_names_the_input_and_the_endpoint(
        resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "zip://x.txt::abfs://c/a.zip"
    _azure_fails(monkeypatch, ServiceRequestError("Cannot connect to host 127.0.0.1:9 [Connect call failed]"))
    err = _run_error(resolver, url)
    assert err.field == FIELD and err.message.startswith("input 'f' cannot be read: "), err.message
    assert f"cannot connect to the storage service holding '{url}'" in err.message, err.message
    hint = err.hint or ""
    assert "host and port" in hint and "BlobEndpoint=" in hint and "AZURE_STORAGE_CONNECTION_STRING" in hint
    assert "datastore" in hint, hint  # a chain is read as written: no datastore's account is used


def test_a_denied_azure_archive_names_the_credentials_it_is_read_with(
        resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "zip://x.txt::abfs://c/a.zip"
    _azure_fails(monkeypatch, ClientAuthenticationError("Server failed to authenticate the request."))
    err = _run_error(resolver, url)
    assert err.field == FIELD and err.message.startswith("input 'f' cannot be read: "), err.message
    assert f"access to '{url}' was denied" in err.message, err.message
    hint = err.hint or ""
    assert "credentials" in hint and "AZURE_STORAGE_ACCOUNT_KEY" in hint, hint
    assert "register a datastore" not in hint, hint  # a chain is read as written: a datastore is not used


@pytest.mark.parametrize(("failure", "said", "hinted"), [
    (_raising(ValueError("no endpoint for this region")), "cannot connect to the storage service holding",
     "options"),
    (_raising(ValueError("unable to connect"), ServiceRequestError("refused")),
     "cannot connect to the storage service holding", "host and port"),
    (_raising(ValueError("unable to connect"), ClientAuthenticationError("denied")), "was denied",
     "credentials"),
])
def test_a_store_whose_filesystem_cannot_be_made_is_said_by_its_cause(
        resolver: Resolver, failing: type[_Failing], failure: Any, said: str, hinted: str) -> None:
    failing.failure = failure
    url = "zip://x.txt::s39m-store://c/a.zip"
    err = _run_error(resolver, url)
    assert err.field == FIELD and err.message.startswith("input 'f' cannot be read: "), err.message
    assert said in err.message and url in err.message, err.message
    hint = err.hint or ""
    assert hinted in hint and "an fsspec URL is" not in hint and "AZURE_STORAGE" not in hint, hint


def test_a_missing_archive_names_the_input_and_its_path(resolver: Resolver, failing: type[_Failing]) -> None:
    failing.failure = _raising(FileNotFoundError(2, "No such container", "c/a.zip"))
    err = _run_error(resolver, "zip://x.txt::s39m-store://c/a.zip")
    assert isinstance(err, ResolveError) and err.field == FIELD
    assert err.message.startswith("input 'f' cannot be read: the file 's39m-store://c/a.zip'"), err.message
    assert "does not exist" in err.message and "last link" in (err.hint or "")


def test_an_unknown_protocol_keeps_the_url_hint(resolver: Resolver) -> None:
    with pytest.raises(RunnerError) as info:
        resolver.resolve("zip://x.txt::s39m-nosuch://c/a.zip", field=FIELD, check=True)
    assert "Protocol not known: s39m-nosuch" in info.value.message  # fsspec's, in the resolver's words
    assert "an fsspec URL is" in (info.value.hint or "")
