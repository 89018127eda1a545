"""Microsoft's "Create datastores" snippets run unchanged: ``AzureBlobDatastore``,
``AzureDataLakeGen2Datastore``, ``AccountKeyConfiguration``, ``SasTokenConfiguration`` and
``ServicePrincipalConfiguration`` import from ``runner.entities`` and become the datastore the dict form
makes (``ml_client.datastores.create_or_update`` or ``ml_client.create_or_update``); runner's
``account_url`` (an emulator's endpoint) is taken too. The secrets they carry never show in their repr or
str, nor in what is logged. A misspelled keyword is one ``SpecError``. Workspaces in tmp_path; no storage is
contacted."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from runner import MLClient
from runner.errors import SpecError
from runner.workspace.datastores import datastore_from_dict, public_dict

KEY = "c2VjcmV0LWtleS0wMTIzNDU2Nzg5"  # base64, as an account key is
SAS = "sv=2022-11-02&sig=SeCrEtSiGnAtUrE"
CLIENT_SECRET = "sp-secret-value-42"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def test_the_docs_blob_datastore_with_an_account_key(ml_client: MLClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from runner.entities import AccountKeyConfiguration, AzureBlobDatastore

    store = AzureBlobDatastore(
        name="blob_example",
        description="Datastore pointing to a blob container.",
        account_name="devstoreaccount1",
        container_name="s41e",
        credentials=AccountKeyConfiguration(account_key=KEY),
    )
    with caplog.at_level(logging.DEBUG):
        made = ml_client.create_or_update(store)
    same = datastore_from_dict({"name": "blob_example", "type": "azure_blob",
                                "description": "Datastore pointing to a blob container.",
                                "account_name": "devstoreaccount1", "container_name": "s41e",
                                "credentials": {"account_key": KEY}})
    assert made == same
    got = ml_client.datastores.get("blob_example")
    assert public_dict(got) == public_dict(same)
    assert got.credentials is not None and got.credentials.account_key is not None
    assert got.credentials.account_key.get_secret_value() == KEY
    for shown in (repr(store), str(store), repr(store.credentials), str(store.credentials),
                  *(r.getMessage() for r in caplog.records)):
        assert KEY not in shown, shown
    assert "***" in repr(store.credentials) and "blob_example" in repr(store)


def test_a_sas_token_an_emulator_endpoint_and_a_service_principal(ml_client: MLClient) -> None:
    from runner.entities import (
        AzureBlobDatastore,
        AzureDataLakeGen2Datastore,
        SasTokenConfiguration,
        ServicePrincipalConfiguration,
    )

    sas = AzureBlobDatastore(name="sas_store", account_name="devstoreaccount1", container_name="c",
                             account_url="http://127.0.0.1:10000/devstoreaccount1",
                             credentials=SasTokenConfiguration(sas_token=SAS), properties={"k": "v"})
    made = ml_client.datastores.create_or_update(sas)
    assert made.account_url == "http://127.0.0.1:10000/devstoreaccount1"  # type: ignore[union-attr]
    assert made.credentials.sas_token.get_secret_value() == SAS  # type: ignore[union-attr]
    principal = ServicePrincipalConfiguration(tenant_id="t-1", client_id="c-1", client_secret=CLIENT_SECRET)
    lake = AzureDataLakeGen2Datastore(name="lake", account_name="acct", filesystem="fs",
                                      credentials=principal)
    made = ml_client.datastores.create_or_update(lake)
    assert (made.type, made.filesystem) == ("azure_data_lake_gen2", "fs")  # type: ignore[union-attr]
    assert made.credentials.client_secret.get_secret_value() == CLIENT_SECRET  # type: ignore[union-attr]
    for shown in (repr(sas), str(sas), repr(lake), str(principal)):
        assert SAS not in shown and "SeCrEt" not in shown and CLIENT_SECRET not in shown, shown


def test_a_misspelled_keyword_is_one_spec_error() -> None:
    from runner.entities import AccountKeyConfiguration, AzureBlobDatastore

    with pytest.raises(SpecError) as info:
        AzureBlobDatastore(name="b", account_name="a", containr_name="c",
                           credentials=AccountKeyConfiguration(account_key=KEY))
    assert "containr_name" in info.value.message and "container_name" in info.value.message
    assert KEY not in str(info.value)


@pytest.mark.parametrize("field", ["account_url", "endpoint"])
def test_a_url_field_with_a_signature_never_shows_it(field: str) -> None:
    """An account_url (or endpoint) written with a SAS query or a password: its repr and str keep the URL's
    place but not its secret (the datastore refuses it when created; the entity is shown before that)."""
    from runner.entities import AzureBlobDatastore, AzureDataLakeGen2Datastore

    signed: dict[str, Any] = {field: "https://acct.blob.core.windows.net/?sv=2020&sig=SeCrEtSiGnAtUrE"}
    password: dict[str, Any] = {field: "https://user:pAsSwOrD@acct.blob.core.windows.net"}
    for store in (AzureBlobDatastore(name="n", account_name="acct", container_name="c", **signed),
                  AzureDataLakeGen2Datastore(name="n", account_name="acct", filesystem="fs", **signed),
                  AzureBlobDatastore(name="n", **password)):
        for shown in (repr(store), str(store)):
            assert "SeCrEt" not in shown and "pAsSwOrD" not in shown, shown
            assert "acct.blob.core.windows.net" in shown and field in shown, shown
