"""Where a datastore's files are, as a download cache key names it: a datastore registered again elsewhere
(another account, endpoint, container, host or folder) under the same name must not meet the entries of
the old place for a file of the same path, modification time and size (an ftp/sftp URL's key keeps its
host for the same reason: ``runner.workspace.resolve``). Never a secret: credentials are left out (another
key to the same container reads the same files), a URL's password and query are masked, and an fsspec
datastore's storage options count only as a digest of their masked copy (``datastore_secrets.masked``).

    store_identity(azure_ds, ws.root)  # "http://127.0.0.1:10000/devstoreaccount1/models"
    store_identity(local_ds, ws.root)  # "file:///home/me/ws/datastores/workspaceblobstore"
    store_identity(s3_ds, ws.root)     # "s3://bucket/base#3f2a9c0d1e4b" (endpoint_url, region ... digested)
    azure_place(fs)                    # "https://acct.blob.core.windows.net": an abfs:// URL of no datastore

An ``abfs://<container>/<p>`` or ``az://`` URL that no datastore's container matches is read with the account
adlfs takes from the URL or from ``AZURE_STORAGE_*``: its key names that account's endpoint
(``azure_place``, from the filesystem made for it), as a ``wasbs://`` URL's names its own. So does a
datastore saved with no credentials of its own (``reads_environment``): adlfs reads it with the
``AZURE_STORAGE_CONNECTION_STRING`` in force, whichever account that names (its endpoint only: no secret).

Pure but for reading ``os.environ``: no filesystem is made, nothing is contacted, fsspec and adlfs are
not imported.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from runner.url_secrets import without_secrets
from runner.workspace.azure_datastore import AzureDatastore
from runner.workspace.azure_sas import connection_parts
from runner.workspace.datastore_kinds import AnyDatastore, FsspecDatastore
from runner.workspace.datastore_secrets import masked

AZURITE_ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"  # what UseDevelopmentStorage=true means


def store_identity(ds: AnyDatastore, workspace_root: Path) -> str:
    """The endpoint and container of an Azure datastore, the URL (and a digest of its masked storage
    options) of an fsspec one, the folder of one on this machine."""
    if isinstance(ds, AzureDatastore):
        return without_secrets(f"{azure_endpoint(ds)}/{ds.container_name or ds.filesystem or ''}")
    if isinstance(ds, FsspecDatastore) and ds.host_root(workspace_root) is None:
        options = masked(ds.storage_options)
        digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:12]
        return without_secrets(ds.url.rstrip("/")) + (f"#{digest}" if options else "")
    return ds.location(workspace_root)  # a folder here: file://<its resolved root>


def azure_endpoint(ds: AzureDatastore) -> str:
    """The blob endpoint its reads go to: a connection string's (it wins, as in ``storage_options``), else
    for one adlfs opens with what ``AZURE_STORAGE_*`` name (``reads_environment``) the connection string in
    force there, else ``account_url``, else the account's (its own, or the variable's) on ``endpoint``."""
    parts = connection_parts(ds.connection_string)
    if parts:
        return _connection_endpoint(parts, ds.protocol, ds.endpoint, ds.account_name)
    from_env = reads_environment(ds)
    if from_env and (conn := os.environ.get("AZURE_STORAGE_CONNECTION_STRING")):  # adlfs: it wins
        return _connection_endpoint(connection_parts(SecretStr(conn)), "https", "core.windows.net", None)
    if ds.account_url:
        return ds.account_url.rstrip("/")
    account = ds.account_name or (os.environ.get("AZURE_STORAGE_ACCOUNT_NAME") if from_env else None)
    return f"{ds.protocol}://{account}.blob.{ds.endpoint}"


def reads_environment(ds: AzureDatastore) -> bool:
    """Whether adlfs reads ``ds`` with the account the ``AZURE_STORAGE_*`` variables name: a datastore of
    no connection string, account key, SAS or service principal of its own (no credentials: adlfs takes the
    variable's connection string then, whatever ``account_name`` says). Its own are handed to adlfs so that
    no variable overrides them (``AzureDatastore.storage_options``, ``mounts.stores.azure_sdk``)."""
    creds = ds.credentials
    own = creds and (creds.account_key or creds.sas_token or (creds.client_id and creds.client_secret))
    return not ds.connection_string and not own


def _connection_endpoint(parts: dict[str, str], protocol: str, suffix: str, account: str | None) -> str:
    """The blob endpoint of a connection string's ``parts`` (as the Azure SDK reads it; ``protocol``,
    ``suffix`` and ``account`` where it names none): never its key or SAS."""
    if parts.get("BlobEndpoint"):
        return parts["BlobEndpoint"].rstrip("/")
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        return AZURITE_ENDPOINT
    protocol = parts.get("DefaultEndpointsProtocol") or protocol
    return f"{protocol}://{parts.get('AccountName') or account}.blob.{parts.get('EndpointSuffix') or suffix}"


def azure_place(fs: Any) -> str | None:
    """The blob endpoint (``scheme://host[/account]``, no query: never a SAS) of the adlfs filesystem
    ``fs`` reads through, itself or the one a chain over it (a cache, an archive) reads; None for any
    other filesystem. Only an attribute of a filesystem already made is read: nothing is contacted."""
    for candidate in (fs, getattr(fs, "fs", None), getattr(getattr(fs, "fo", None), "fs", None)):
        client = getattr(candidate, "service_client", None)
        if client is None or not type(candidate).__module__.startswith(("adlfs", "mounts.stores")):
            continue
        url = urlsplit(str(getattr(client, "url", "") or ""))
        if url.netloc:
            return without_secrets(f"{url.scheme}://{url.netloc}{url.path}".rstrip("/"))
    return None
