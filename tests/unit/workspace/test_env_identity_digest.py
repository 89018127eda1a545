"""The service principal (or workload identity) in the environment is part of what keys adlfs' filesystem:
azure-identity's ``DefaultAzureCredential``, which adlfs makes for a datastore without a key, SAS or
connection string, reads ``AZURE_CLIENT_ID``/``_SECRET``/``AZURE_TENANT_ID``, ``AZURE_FEDERATED_TOKEN_FILE``
and ``AZURE_AUTHORITY_HOST``; a long-lived process whose variables change gets a filesystem made with the new
identity, not the one made with the old. The digest stays a keyed HMAC: no value is in it. Real adlfs
filesystems are made; nothing is contacted."""

from __future__ import annotations

import pytest

from mounts.stores.azure_urls import env_credentials_digest

pytest.importorskip("adlfs")

SECRET = "sp-secret-value-1"
IDENTITY = {"AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555", "AZURE_CLIENT_SECRET": SECRET,
            "AZURE_TENANT_ID": "tenant-one", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token-one",
            "AZURE_AUTHORITY_HOST": "login.microsoftonline.com"}


@pytest.fixture(autouse=True)
def _identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_each_identity_variable_changes_the_digest(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = env_credentials_digest()
    assert env_credentials_digest() == before  # nothing changed: the same
    monkeypatch.setenv(name, IDENTITY[name] + "-two")
    after = env_credentials_digest()
    assert after != before
    assert all(value not in after for value in (*IDENTITY.values(), IDENTITY[name] + "-two"))
    monkeypatch.setenv(name, IDENTITY[name])
    assert env_credentials_digest() == before


def test_a_filesystem_made_with_the_old_service_principal_is_not_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem

    options = {"account_name": "acct", "anon": False}  # DefaultAzureCredential: reads AZURE_CLIENT_*
    first = RetryingAzureBlobFileSystem(**options)
    assert RetryingAzureBlobFileSystem(**options) is first  # the same identity: the same filesystem
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sp-secret-value-2")
    second = RetryingAzureBlobFileSystem(**options)
    assert second is not first
    monkeypatch.setenv("AZURE_CLIENT_ID", "66666666-2222-3333-4444-555555555555")
    assert RetryingAzureBlobFileSystem(**options) is not second
