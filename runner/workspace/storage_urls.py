"""Azure Storage URLs (``wasbs://``, ``https://<account>.blob...``, ``abfss://``, path-style emulator URLs)
against the workspace: the registered datastore of the same account and container, or anonymous access.

- A datastore whose ``account_name`` and container (``container_name`` / ``filesystem``) are the URL's
  is used with its credentials and endpoint (so a ``wasbs://`` URL works against an emulator such as
  Azurite when a datastore names it), and the path is shown as ``azureml://datastores/<ds>/paths/<p>``.
- With no such datastore the URL is read anonymously (a public container): the client is made from a
  connection string with no key, so no credential chain (environment, managed identity endpoint, CLI)
  is tried and nothing warns about one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from runner.errors import StorageError
from runner.uris import StorageUrl
from runner.workspace.azure_datastore import AzureDatastore
from runner.workspace.datastore_kinds import AnyDatastore

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


def datastore_for(url: StorageUrl, datastores: Iterable[AnyDatastore]) -> AzureDatastore | None:
    """The registered Azure datastore of the URL's account and container (the first by name)."""
    for ds in sorted(datastores, key=lambda d: d.name):
        if not isinstance(ds, AzureDatastore):
            continue
        container = ds.container_name or ds.filesystem
        if (ds.account_name or "").lower() == url.account.lower() and container == url.container:
            return ds
    return None


def anonymous_connection_string(url: StorageUrl) -> str:
    """A connection string with no secret: the SDK then signs nothing and asks no credential chain."""
    return f"AccountName={url.account};BlobEndpoint={url.endpoint};"


def public_filesystem(url: StorageUrl) -> tuple[AbstractFileSystem, str, dict[str, str]]:
    """An anonymous filesystem for ``url``, the path on it, and the environment a ``direct`` job needs."""
    connection = anonymous_connection_string(url)
    try:
        from adlfs import AzureBlobFileSystem

        fs: Any = AzureBlobFileSystem(connection_string=connection, account_name=url.account)
    except ImportError as exc:
        raise StorageError("Azure Storage URLs need the 'adlfs' package", hint="pip install adlfs") from exc
    from runner.workspace.transfers import retry_like_transfers  # with adlfs: its start-up cost is paid

    retry_like_transfers(fs)  # an endpoint that cannot be connected to fails in seconds, as a datastore's
    path = f"{url.container}/{url.path}".rstrip("/")
    env = {"AZURE_STORAGE_ACCOUNT_NAME": url.account, "AZURE_STORAGE_CONNECTION_STRING": connection,
           "AZURE_STORAGE_BLOB_ENDPOINT": url.endpoint}
    return fs, path, env
