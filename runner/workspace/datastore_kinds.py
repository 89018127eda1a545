"""Datastore kinds (Azure ML datastore YAML) as typed configs, each opening an fsspec filesystem + root.

Kinds (``type:``):

- ``local``: a folder (``path:``; relative paths are relative to the YAML's folder). The default
  ``workspaceblobstore`` is one, at ``<ws>/datastores/workspaceblobstore``.
- ``azure_blob`` (``container_name``) and ``azure_data_lake_gen2`` (``filesystem``) through adlfs
  (``runner.workspace.azure_datastore``).
  Credentials: ``credentials: {account_key | sas_token}``, service principal
  ``credentials: {tenant_id, client_id, client_secret}``, our ``connection_string``, or none (then
  adlfs uses ``DefaultAzureCredential``). ``endpoint`` is Azure's storage suffix (``core.windows.net``);
  ``account_url`` (alias ``blob_endpoint``) is a full endpoint for emulators such as Azurite
  (``http://127.0.0.1:10000/devstoreaccount1``).
- ``fsspec``: ``url`` (``s3://bucket/prefix``, ``memory://x``) plus ``storage_options``; one on this
  machine (``file://``, ``local://``, a plain path) is a host folder to jobs, as ``local`` is (``host_root``).

``env_for_direct()`` gives the variables a job needs to open the datastore's URLs itself (``direct``
mode). adlfs's ``AzureBlobFileSystem`` reads these itself when no argument is given (adlfs/spec.py,
``__init__``): ``AZURE_STORAGE_ACCOUNT_NAME``, ``AZURE_STORAGE_ACCOUNT_KEY``, ``AZURE_STORAGE_SAS_TOKEN``,
``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_CLIENT_ID`` / ``_CLIENT_SECRET`` / ``_TENANT_ID``.
adlfs has no endpoint variable and its ``account_host`` always means https, so for a custom endpoint we
put the endpoint into ``AZURE_STORAGE_CONNECTION_STRING`` (``BlobEndpoint=``) and also export
``AZURE_STORAGE_BLOB_ENDPOINT`` for scripts that use the Azure SDK directly. ``fsspec`` datastores export
``FSSPEC_<PROTOCOL>`` (JSON storage options), which fsspec reads at import (``fsspec.config``).

Secrets (``SecretStr``, fsspec ``storage_options``) never appear in reprs or logs; ``runner.workspace.
datastores`` masks them for ``show`` and the database. A URL never holds one (a query, a password).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from runner.errors import SpecError, StorageError
from runner.spec.validation import runner_error
from runner.uris import local_file_url
from runner.workspace.account_keys import StorageOptions
from runner.workspace.azure_datastore import AzureDatastore
from runner.workspace.chained_urls import chained_url
from runner.workspace.datastore_base import DatastoreBase
from runner.workspace.datastore_urls import refuse_unknown_protocol, without_secret_query
from runner.workspace.option_clash import options_clash

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem  # imported by ``open``: planning a job needs no filesystem

DATASTORE_TYPES = ("local", "azure_blob", "azure_data_lake_gen2", "fsspec")
LOCAL_PROTOCOLS = ("file", "local")  # fsspec's names for this machine's filesystem


class LocalDatastore(DatastoreBase):
    type: Literal["local"] = "local"
    path: str  # absolute, or relative to the workspace root (the default datastore)

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(), self.root(workspace_root)

    def root(self, workspace_root: Path) -> str:
        """The folder it holds (resolved): no filesystem object needed to look at it."""
        root = Path(self.path)
        return str((root if root.is_absolute() else workspace_root / root).resolve())

    host_root = root  # on this machine, always
    def url_for(self, fs_path: str) -> str:
        return "file://" + fs_path

    def env_for_direct(self) -> dict[str, str]:
        return {}

    def direct_env(self, *, write: bool = False, valid_s: float = 0) -> dict[str, str]:
        return {}  # a local path: the executor binds it (read-only for an input)

    def location(self, workspace_root: Path) -> str:
        """Where the root physically is (two datastores over one folder have the same location)."""
        return "file://" + self.root(workspace_root)


class FsspecDatastore(DatastoreBase):
    model_config = ConfigDict(defer_build=True)  # as AzureDatastore's
    type: Literal["fsspec"] = "fsspec"
    url: str
    storage_options: StorageOptions = Field(default_factory=dict, repr=False)

    @field_validator("url")
    @classmethod
    def _no_query(cls, value: str, info: ValidationInfo) -> str:
        """No secret in it; a file on this machine as fsspec reads it (``file://localhost/x`` is
        ``file:///x``), and no ``file://`` naming another host (RFC 8089); when it is created, no
        protocol fsspec does not know (``url_protocols``: one read back is said where it is read)."""
        try:
            value = local_file_url(without_secret_query(value, "url") or value, "url")
        except SpecError as err:
            raise runner_error(err.message, err.hint) from None
        if (info.context or {}).get("created"):
            refuse_unknown_protocol(value)  # imports fsspec: when created only
        return value

    @property
    def protocol(self) -> str:
        """Its first link's protocol (a chain's: ``simplecache`` of ``simplecache::s3://...``)."""
        first = self.url.split("::", 1)[0]
        return first.split("://", 1)[0] if "://" in first else first if "::" in self.url else "file"

    @property
    def _on_this_machine(self) -> bool:  # a chained URL (simplecache::file://) stays fsspec's
        return self.protocol in LOCAL_PROTOCOLS and "::" not in self.url

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        from runner.workspace import host_cache  # with fsspec: only for an fsspec datastore
        from runner.workspace.remote_open import remote_filesystem  # with fsspec

        try:
            if host_cache.host_cache_root(self.url, self.storage_options) is not None:
                return host_cache.open_host_cache(self.url, self.storage_options)  # reads no link
            # an archive on this machine (zip://::file:///<archive>): opened following no link on its path
            opened = host_cache.open_host_archive(self.name, self.url, self.storage_options)
            fs, root = opened or remote_filesystem(self.url, self.storage_options, self.name)  # said
        except ImportError as exc:
            raise StorageError(f"datastore '{self.name}': no fsspec backend for '{self.protocol}://'",
                               hint=f"install the package for {self.protocol} (e.g. s3fs, gcsfs)") from exc
        except ValueError as exc:
            raise SpecError(f"datastore '{self.name}': bad url or storage_options: {exc}",
                            field="url") from exc
        except TypeError as exc:  # fsspec's for a url and storage_options naming one option differently
            raise options_clash(self.url, exc, datastore=self.name, field="url") from None
        return fs, str(root)

    def host_root(self, workspace_root: Path) -> str | None:
        """For a ``file://``/``local://`` URL or a plain path (relative: to the current folder, as fsspec
        takes it): never fsspec's local filesystem, which follows the links a job may have left."""
        where = self.url.split("://", 1)[-1]
        return str(Path(where).expanduser().resolve()) if self._on_this_machine else None

    def url_for(self, fs_path: str) -> str:
        if self._on_this_machine:
            return "file://" + fs_path
        if "::" in self.url:  # the path goes in the link that holds it (zip://<member>::file:///<archive>)
            return chained_url(self.url, fs_path, self.storage_options)
        from runner.workspace.remote_open import url_of  # with fsspec: makes no ftp:// filesystem

        return url_of(self.protocol, self.storage_options, fs_path, url=self.url)

    def direct_env(self, *, write: bool = False, valid_s: float = 0) -> dict[str, str]:
        """What a job's ``direct`` bindings get: the storage options for writing; nothing can narrow
        arbitrary fsspec credentials to reading. A URL of this machine's files (a cache of a folder, an
        archive here: with storage options or none) is refused for reading, as writable through. A
        folder on this machine is bound instead (read-only for an input): none."""
        if self._on_this_machine:
            return {}
        if write:
            return self.env_for_direct()
        from runner.workspace.host_cache import refuse_direct_read  # with fsspec

        refuse_direct_read(self.name, self.url, self.storage_options)  # this machine's files: why
        if self.storage_options:
            raise StorageError(f"datastore '{self.name}' has credentials that cannot be narrowed to "
                               "read-only, and a direct input must not be able to write its source",
                               hint="use mode: download or ro_mount for this input")
        return {}

    def location(self, workspace_root: Path) -> str:
        """Where the root physically is (see ``LocalDatastore``)."""
        host = self.host_root(workspace_root)
        return "file://" + host if host is not None else self.url.rstrip("/")

    def env_for_direct(self) -> dict[str, str]:
        if not self.storage_options:
            return {}
        return {f"FSSPEC_{self.protocol.upper()}": json.dumps(self.storage_options)}


Datastore = Annotated[LocalDatastore | AzureDatastore | FsspecDatastore, Field(discriminator="type")]
AnyDatastore = LocalDatastore | AzureDatastore | FsspecDatastore


def datastore_from_dict(data: dict[str, Any], *, created: bool = False) -> AnyDatastore:
    """Validate a datastore config (raises ``pydantic.ValidationError``); ``created``: one being created,
    whose URL's protocols fsspec must know (checked then only: reading one back imports no fsspec)."""
    if isinstance(data, dict) and data.get("type") == "local":  # the default datastore's kind: its model
        try:  # (what the union picks), with no validator built for the other kinds (~1% of a cold validate)
            return LocalDatastore.model_validate(data, context={"created": created})
        except ValueError:  # (pydantic's ValidationError)
            pass  # the union's own error, which names the kind (``validation_to_spec_error``)
    return datastore_adapter().validate_python(data, context={"created": created})


@functools.cache
def datastore_adapter() -> TypeAdapter[AnyDatastore]:
    """The validator of any kind (``Datastore``), built at its first use; the fork server's at start."""
    return TypeAdapter(Datastore)
