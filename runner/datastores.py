"""Datastore configs (Azure ML datastore YAML) -> an fsspec filesystem and a root path.

Kinds (``type:``):

- ``local``: a folder (``path:``; relative paths are relative to the YAML's folder). The default
  ``workspaceblobstore`` is one, at ``<ws>/datastores/workspaceblobstore``.
- ``azure_blob`` (``container_name``) and ``azure_data_lake_gen2`` (``filesystem``) through adlfs.
  Credentials: ``credentials: {account_key | sas_token}``, service principal
  ``credentials: {tenant_id, client_id, client_secret}``, our ``connection_string``, or none (then
  adlfs uses ``DefaultAzureCredential``). ``endpoint`` is Azure's storage suffix (``core.windows.net``);
  ``account_url`` (alias ``blob_endpoint``) is a full endpoint for emulators such as Azurite
  (``http://127.0.0.1:10000/devstoreaccount1``).
- ``fsspec``: ``url`` (``s3://bucket/prefix``, ``memory://x``) plus ``storage_options``.

``env_for_direct()`` gives the variables a job needs to open the datastore's URLs itself (``direct``
mode). adlfs's ``AzureBlobFileSystem`` reads these itself when no argument is given (adlfs/spec.py,
``__init__``): ``AZURE_STORAGE_ACCOUNT_NAME``, ``AZURE_STORAGE_ACCOUNT_KEY``, ``AZURE_STORAGE_SAS_TOKEN``,
``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_CLIENT_ID`` / ``_CLIENT_SECRET`` / ``_TENANT_ID``.
adlfs has no endpoint variable and its ``account_host`` always means https, so for a custom endpoint we
put the endpoint into ``AZURE_STORAGE_CONNECTION_STRING`` (``BlobEndpoint=``) and also export
``AZURE_STORAGE_BLOB_ENDPOINT`` for scripts that use the Azure SDK directly. ``fsspec`` datastores export
``FSSPEC_<PROTOCOL>`` (JSON storage options), which fsspec reads at import (``fsspec.config``).

Secrets (``SecretStr``) never appear in reprs, logs or ``public_dict()``.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fsspec import AbstractFileSystem
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from runner.errors import ResolveError, SpecError, StorageError
from runner.workspace import DEFAULT_DATASTORE, Workspace, utcnow
from runner.yamlio import load_yaml

logger = logging.getLogger(__name__)

REDACTED = "***"
DATASTORE_TYPES = ("local", "azure_blob", "azure_data_lake_gen2", "fsspec")


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    schema_: str | None = Field(default=None, alias="$schema")


class LocalDatastore(_Base):
    type: Literal["local"] = "local"
    path: str  # absolute, or relative to the workspace root (the default datastore)

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        from fsspec.implementations.local import LocalFileSystem

        root = Path(self.path)
        root = root if root.is_absolute() else workspace_root / root
        return LocalFileSystem(), str(root.resolve())

    def url_for(self, fs_path: str) -> str:
        return "file://" + fs_path

    def env_for_direct(self) -> dict[str, str]:
        return {}


class AzureCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_key: SecretStr | None = None
    sas_token: SecretStr | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None


class AzureDatastore(_Base):
    type: Literal["azure_blob", "azure_data_lake_gen2"]
    account_name: str | None = None
    container_name: str | None = None
    filesystem: str | None = None  # azure_data_lake_gen2's name for the container
    endpoint: str = "core.windows.net"
    protocol: str = "https"
    account_url: str | None = Field(default=None, alias="blob_endpoint")
    credentials: AzureCredentials | None = None
    connection_string: SecretStr | None = None

    @property
    def container(self) -> str:
        name = self.container_name or self.filesystem
        if not name:
            field = "filesystem" if self.type == "azure_data_lake_gen2" else "container_name"
            raise SpecError(f"datastore '{self.name}' has no {field}", field=field,
                            hint=f"set {field}: <name of the container>")
        return name

    def _blob_endpoint(self) -> str | None:
        if self.account_url:
            return self.account_url.rstrip("/")
        if self.account_name and (self.endpoint != "core.windows.net" or self.protocol != "https"):
            return f"{self.protocol}://{self.account_name}.blob.{self.endpoint}"
        return None

    def _effective_connection_string(self) -> str | None:
        """A connection string when one is given or needed (custom endpoint with a key or SAS)."""
        if self.connection_string:
            return self.connection_string.get_secret_value()
        endpoint = self._blob_endpoint()
        creds = self.credentials
        if not endpoint or not creds:
            return None
        if creds.account_key:
            protocol = endpoint.split("://", 1)[0]
            return (f"DefaultEndpointsProtocol={protocol};AccountName={self.account_name};"
                    f"AccountKey={creds.account_key.get_secret_value()};BlobEndpoint={endpoint};")
        if creds.sas_token:
            return f"BlobEndpoint={endpoint};SharedAccessSignature={creds.sas_token.get_secret_value()}"
        return None

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``adlfs.AzureBlobFileSystem`` (contains secrets: never log)."""
        conn = self._effective_connection_string()
        if conn:
            return {"connection_string": conn, "account_name": self.account_name}
        options: dict[str, Any] = {"account_name": self.account_name}
        endpoint = self._blob_endpoint()
        if endpoint:
            options["account_host"] = endpoint.split("://", 1)[-1]
        creds = self.credentials or AzureCredentials()
        if creds.account_key:
            options["account_key"] = creds.account_key.get_secret_value()
        elif creds.sas_token:
            options["sas_token"] = creds.sas_token.get_secret_value()
        elif creds.client_id and creds.client_secret:
            options.update(client_id=creds.client_id, tenant_id=creds.tenant_id,
                           client_secret=creds.client_secret.get_secret_value())
        else:
            options["anon"] = False  # DefaultAzureCredential
        return options

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        if not self.account_name and not self.connection_string:
            raise SpecError(f"datastore '{self.name}' needs account_name (or connection_string)",
                            field="account_name", hint="set account_name: <storage account>")
        try:
            from adlfs import AzureBlobFileSystem

            fs = AzureBlobFileSystem(**self.storage_options())
        except ImportError as exc:
            raise StorageError("Azure datastores need the 'adlfs' package",
                               hint="pip install adlfs") from exc
        except Exception as exc:  # adlfs raises ValueError & azure errors for bad settings
            raise StorageError(f"cannot connect datastore '{self.name}': {type(exc).__name__}",
                               hint="check account_name, account_url and credentials "
                                    "(`runner datastore show --name " + self.name + "`)") from exc
        return fs, self.container

    def url_for(self, fs_path: str) -> str:
        return "abfs://" + fs_path

    def env_for_direct(self) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.account_name:
            env["AZURE_STORAGE_ACCOUNT_NAME"] = self.account_name
        endpoint = self._blob_endpoint()
        if endpoint:
            env["AZURE_STORAGE_BLOB_ENDPOINT"] = endpoint
        conn = self._effective_connection_string()
        if conn:
            env["AZURE_STORAGE_CONNECTION_STRING"] = conn
        creds = self.credentials or AzureCredentials()
        if creds.account_key:
            env["AZURE_STORAGE_ACCOUNT_KEY"] = creds.account_key.get_secret_value()
        if creds.sas_token:
            env["AZURE_STORAGE_SAS_TOKEN"] = creds.sas_token.get_secret_value()
        if creds.client_id and creds.client_secret:
            env.update(AZURE_STORAGE_CLIENT_ID=creds.client_id,
                       AZURE_STORAGE_CLIENT_SECRET=creds.client_secret.get_secret_value())
            if creds.tenant_id:
                env["AZURE_STORAGE_TENANT_ID"] = creds.tenant_id
        return env


class FsspecDatastore(_Base):
    type: Literal["fsspec"] = "fsspec"
    url: str
    storage_options: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else "file"

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(self.url, **self.storage_options)
        except ImportError as exc:
            raise StorageError(f"datastore '{self.name}': no fsspec backend for '{self.protocol}://'",
                               hint=f"install the package for {self.protocol} (e.g. s3fs, gcsfs)") from exc
        except ValueError as exc:
            raise SpecError(f"datastore '{self.name}': bad url or storage_options: {exc}",
                            field="url") from exc
        return fs, str(root)

    def url_for(self, fs_path: str) -> str:
        import fsspec

        return str(fsspec.filesystem(self.protocol, **self.storage_options).unstrip_protocol(fs_path))

    def env_for_direct(self) -> dict[str, str]:
        if not self.storage_options:
            return {}
        return {f"FSSPEC_{self.protocol.upper()}": json.dumps(self.storage_options)}


Datastore = Annotated[LocalDatastore | AzureDatastore | FsspecDatastore, Field(discriminator="type")]
_ADAPTER: TypeAdapter[LocalDatastore | AzureDatastore | FsspecDatastore] = TypeAdapter(Datastore)
AnyDatastore = LocalDatastore | AzureDatastore | FsspecDatastore


def datastore_from_dict(data: dict[str, Any]) -> AnyDatastore:
    """Validate a datastore config (raises ``pydantic.ValidationError``)."""
    return _ADAPTER.validate_python(data)


def secret_dict(ds: AnyDatastore) -> dict[str, Any]:
    """The full config, secrets included (only for the owner-only secrets file)."""
    data = json.loads(ds.model_dump_json(by_alias=False, exclude_none=True, exclude={"schema_"}))
    return _reveal(ds, data)


def _reveal(ds: AnyDatastore, data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(ds, AzureDatastore):
        if ds.connection_string:
            data["connection_string"] = ds.connection_string.get_secret_value()
        if ds.credentials:
            for key in ("account_key", "sas_token", "client_secret"):
                value = getattr(ds.credentials, key)
                if value is not None:
                    data["credentials"][key] = value.get_secret_value()
    return data


def public_dict(ds: AnyDatastore) -> dict[str, Any]:
    """The config with every secret replaced by ``***`` (what ``show`` prints and the DB stores)."""
    data = json.loads(ds.model_dump_json(by_alias=False, exclude_none=True, exclude={"schema_"}))
    if isinstance(ds, AzureDatastore):
        if ds.connection_string:
            data["connection_string"] = REDACTED
        for key, value in (data.get("credentials") or {}).items():
            if key in ("account_key", "sas_token", "client_secret") and value is not None:
                data["credentials"][key] = REDACTED
    if isinstance(ds, FsspecDatastore):
        data["storage_options"] = {k: REDACTED if _looks_secret(k) else v
                                   for k, v in ds.storage_options.items()}
    return data


def credential_kind(ds: AnyDatastore) -> str:
    if isinstance(ds, LocalDatastore):
        return "none"
    if isinstance(ds, FsspecDatastore):
        return "storage_options" if ds.storage_options else "none"
    creds = ds.credentials or AzureCredentials()
    if ds.connection_string:
        return "connection_string"
    if creds.account_key:
        return "account_key"
    if creds.sas_token:
        return "sas_token"
    if creds.client_id:
        return "service_principal"
    return "default_azure_credential"


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(w in lowered for w in ("key", "secret", "token", "password", "credential", "connection",
                                      "sas", "sig"))


def join_under_root(root: str, relative: str, *, datastore: str) -> str:
    """``root/relative`` on the datastore's filesystem; refuses paths that leave the root."""
    rel = relative.strip("/")
    normalized = posixpath.normpath(rel) if rel else ""
    if normalized in (".", ""):
        return root.rstrip("/") or "/"
    if normalized == ".." or normalized.startswith("../") or "/../" in f"/{normalized}/":
        raise ResolveError(
            f"path '{relative}' escapes the root of datastore '{datastore}'",
            hint="remove '..' segments: a datastore path is relative to the datastore root")
    return f"{root.rstrip('/')}/{normalized}" if root not in ("", "/") else f"{root}{normalized}"


def validation_to_spec_error(exc: ValidationError, where: Any = None) -> SpecError:
    """The first pydantic error as a ``SpecError`` (``where`` maps a field path to a location)."""
    first = exc.errors()[0]
    loc = tuple(str(p) for p in first["loc"] if p not in DATASTORE_TYPES)
    kind = next((str(p) for p in first["loc"] if p in DATASTORE_TYPES), None)
    msg, hint = first["msg"], "see the datastore fields: `runner datastore create --help`"
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        got = (first.get("ctx") or {}).get("tag")
        msg = f"unknown datastore type {got!r}" if got else "the datastore has no type"
        loc, hint = ("type",), "allowed types: " + ", ".join(DATASTORE_TYPES)
    elif first["type"] == "extra_forbidden":
        msg = f"unknown field '{loc[-1]}'" + (f" (datastore type {kind})" if kind else "")
        hint = "allowed fields: " + ", ".join(_fields_of(kind))
    elif first["type"] == "missing":
        msg = f"missing required field '{loc[-1]}'"
    return SpecError(msg, field=".".join(loc) or None, where=where(loc) if where else None, hint=hint)


def _fields_of(kind: str | None) -> list[str]:
    classes: dict[str, type[_Base]] = {"local": LocalDatastore, "fsspec": FsspecDatastore}
    cls = classes.get(kind or "", AzureDatastore)
    return [n for n in cls.model_fields if n != "schema_"] + ["$schema"]

class DatastoreStore:
    """Datastore configs kept in the workspace: public part in the DB, full part in a 0600 file.

    The secrets file is written (atomically, owner-only) before the DB row is committed.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._open_cache: dict[str, tuple[AbstractFileSystem, str]] = {}

    def _secret_file(self, name: str) -> Path:
        return self.workspace.secrets_dir / f"datastore-{name}.json"

    def save(self, ds: AnyDatastore) -> AnyDatastore:
        """Create or replace a datastore (Azure's create_or_update)."""
        _check_name(ds.name)
        secret_file = self._secret_file(ds.name)
        tmp = secret_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(secret_dict(ds), handle)
        os.replace(tmp, secret_file)
        with self.workspace.transaction() as conn:
            conn.execute("INSERT INTO datastores (name, type, config, created_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET type = excluded.type, config = excluded.config",
                         (ds.name, ds.type, json.dumps(public_dict(ds)), utcnow().isoformat()))
        self._open_cache.pop(ds.name, None)
        return ds

    def get(self, name: str) -> AnyDatastore:
        with self.workspace.reading() as conn:
            row = conn.execute("SELECT config FROM datastores WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.names())
            raise ResolveError(f"unknown datastore '{name}'; datastores in this workspace: {known}",
                               hint="create it with `runner datastore create --file <datastore.yml>`, "
                                    "or use one of the names listed")
        secret_file = self._secret_file(name)
        data = json.loads(secret_file.read_text()) if secret_file.exists() else json.loads(row["config"])
        return datastore_from_dict(data)

    def names(self) -> list[str]:
        with self.workspace.reading() as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM datastores ORDER BY name")]

    def list(self) -> list[AnyDatastore]:
        return [self.get(name) for name in self.names()]

    def delete(self, name: str) -> None:
        if name == DEFAULT_DATASTORE:
            raise ResolveError(f"the default datastore '{DEFAULT_DATASTORE}' cannot be deleted",
                               hint="create a datastore with that name to point it somewhere else")
        self.get(name)  # unknown -> ResolveError listing what exists
        with self.workspace.transaction() as conn:
            conn.execute("DELETE FROM datastores WHERE name = ?", (name,))
        self._secret_file(name).unlink(missing_ok=True)
        self._open_cache.pop(name, None)

    def open(self, name: str) -> tuple[AnyDatastore, AbstractFileSystem, str]:
        """The datastore, its filesystem, and its root path on that filesystem."""
        ds = self.get(name)
        if name not in self._open_cache:
            self._open_cache[name] = ds.open(self.workspace.root)
        fs, root = self._open_cache[name]
        return ds, fs, root


_DS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,254}$")


def _check_name(name: str) -> None:
    if not _DS_NAME.match(name):
        raise SpecError(f"invalid datastore name {name!r}", field="name",
                        hint="use letters, digits, '_' and '-'")


def load_datastore(path: str | Path) -> AnyDatastore:
    """Load a datastore YAML file (``runner datastore create --file``)."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise SpecError("a datastore YAML must be a mapping (name, type, ...)", where=doc.where())
    data = dict(doc.data)
    if data.get("type") == "local" and data.get("path") and not Path(str(data["path"])).is_absolute():
        data["path"] = str((doc.base_dir / str(data["path"])).resolve())
    try:
        return datastore_from_dict(data)
    except ValidationError as exc:
        raise validation_to_spec_error(exc, where=doc.where) from exc
