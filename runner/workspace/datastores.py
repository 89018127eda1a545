"""Datastores in a workspace: configs kept in the database (public part) and an owner-only secrets file,
loaded from YAML, redacted for display, and opened as an fsspec filesystem + root.

The kinds themselves (``local``, ``azure_blob`` / ``azure_data_lake_gen2``, ``fsspec``), their
credentials and the environment a ``direct`` job gets are in ``runner.workspace.datastore_kinds`` (Azure's:
``runner.workspace.azure_datastore``); their names are re-exported here.

Secrets (``SecretStr``) never appear in reprs, logs or ``public_dict()``; which fsspec options are
secrets, and the masking of rows an older runner saved in plain text, are
``runner.workspace.datastore_secrets``'s.
"""

from __future__ import annotations

import json
import logging
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from runner.errors import ResolveError, SpecError
from runner.lazy_re import on_first_use
from runner.spec.validation import RUNNER_ERROR, did_you_mean
from runner.spec.yamlio import load_yaml
from runner.workspace.azure_datastore import AzureCredentials, AzureDatastore
from runner.workspace.datastore_base import DatastoreBase
from runner.workspace.datastore_kinds import (
    DATASTORE_TYPES,
    AnyDatastore,
    Datastore,
    FsspecDatastore,
    LocalDatastore,
    datastore_from_dict,
)
from runner.workspace.datastore_secrets import REDACTED, masked
from runner.workspace.db import DEFAULT_DATASTORE, Workspace, utcnow
from runner.workspace.secret_files import keep_file, read_kept, remove_kept

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "DATASTORE_TYPES", "REDACTED", "AnyDatastore", "AzureCredentials", "AzureDatastore", "Datastore",
    "DatastoreBase", "DatastoreStore", "FsspecDatastore", "LocalDatastore", "UnknownDatastore",
    "credential_kind", "datastore_from_dict", "join_under_root", "load_datastore", "masked", "public_dict",
    "secret_dict", "validation_to_spec_error",
]

logger = logging.getLogger(__name__)


class UnknownDatastore(ResolveError):
    """No datastore of that name (``datastore``) in this workspace; ``known``: the names it has."""

    def __init__(self, datastore: str, known: list[str], *, hint: str, python_hint: str) -> None:
        super().__init__(f"unknown datastore '{datastore}'; datastores in this workspace: {', '.join(known)}",
                         hint=hint, python_hint=python_hint)
        self.datastore, self.known = datastore, known


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
        data["storage_options"] = masked(ds.storage_options)
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


FIELDS_HINT = "see the datastore fields: `runner datastore create --help`"


def validation_to_spec_error(exc: ValidationError, where: Any = None) -> SpecError:
    """The first pydantic error as a ``SpecError`` (``where`` maps a field path to a location)."""
    first = exc.errors()[0]
    loc = tuple(str(p) for p in first["loc"] if p not in DATASTORE_TYPES)
    kind = next((str(p) for p in first["loc"] if p in DATASTORE_TYPES), None)
    msg, hint = first["msg"], FIELDS_HINT
    if first["type"] == RUNNER_ERROR:  # a validator's own message and hint
        hint = (first.get("ctx") or {}).get("hint", hint)
    elif first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        got = (first.get("ctx") or {}).get("tag")
        msg = f"unknown datastore type {got!r}{did_you_mean(got, DATASTORE_TYPES)}" if got else \
            "the datastore has no type"
        loc, hint = ("type",), "allowed types: " + ", ".join(DATASTORE_TYPES)
    elif first["type"] == "extra_forbidden":
        msg = f"unknown field '{loc[-1]}'{did_you_mean(loc[-1], _fields_of(kind))}" + \
            (f" (datastore type {kind})" if kind else "")
        hint = "allowed fields: " + ", ".join(_fields_of(kind))
    elif first["type"] == "missing":
        msg = f"missing required field '{loc[-1]}'"
    python = "the datastore's fields: " + ", ".join(_fields_of(kind)) if hint == FIELDS_HINT else None
    return SpecError(msg, field=".".join(loc) or None, where=where(loc) if where else None, hint=hint,
                     python_hint=python)


def _fields_of(kind: str | None) -> list[str]:
    classes: dict[str, type[DatastoreBase]] = {"local": LocalDatastore, "fsspec": FsspecDatastore}
    cls = classes.get(kind or "", AzureDatastore)
    return [n for n in cls.model_fields if n != "schema_"] + ["$schema"]


class DatastoreStore:
    """Datastore configs kept in the workspace: public part in the DB, full part in a 0600 file.

    The secrets file is written (atomically, owner-only) before the DB row is committed; it is written,
    read and removed never through a link (``runner.workspace.secret_files``).
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        # name -> (what it was opened as, its filesystem and root): the datastore as read then (another
        # process may save it again with other credentials) and, for Azure, the AZURE_STORAGE_* in force
        self._open_cache: dict[str, tuple[tuple[AnyDatastore, str], AbstractFileSystem, str]] = {}

    def _secret_file(self, name: str) -> Path:
        return self.workspace.secrets_dir / f"datastore-{name}.json"

    def save(self, ds: AnyDatastore) -> AnyDatastore:
        """Create or replace a datastore (Azure's create_or_update); an Azure one needs its container
        (saved without one, it would break every job's planning)."""
        _check_name(ds.name)
        if isinstance(ds, AzureDatastore):
            ds.check_complete()
        # owner-only, a new file renamed over its name; a link at the folder's or the file's place is
        # refused (one StorageError, nothing written, the row not saved)
        keep_file(self.workspace.secrets_dir, self._secret_file(ds.name).name,
                  json.dumps(secret_dict(ds)).encode())
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
            raise UnknownDatastore(name, list(self.names()),
                                   hint="create it with `runner datastore create --file <datastore.yml>`, "
                                        "or use one of the names listed",
                                   python_hint="create it with `ml_client.datastores.create_or_update("
                                               "load_datastore('<datastore.yml>'))`, or use one of the "
                                               "names listed")
        data = json.loads(self._kept(name, row["config"]) or row["config"])
        try:
            return datastore_from_dict(data)
        except ValidationError as exc:  # saved by an older runner that accepted it
            error = validation_to_spec_error(exc)
            raise SpecError(f"datastore '{name}' is not valid any more: {error.field}: {error.message}",
                            hint=f"create it again: `runner datastore create --file <yml>` "
                                 f"({error.hint})",
                            python_hint="create it again: `ml_client.datastores.create_or_update("
                                        f"load_datastore('<yml>'))` ({error.python_hint or error.hint})"
                            ) from exc

    def _kept(self, name: str, config: str) -> bytes | None:
        """The datastore's secrets file (None: none), never read through a link: a link as the file, or
        as the secrets folder, is one ``StorageError``; but for a datastore whose row shows no secret
        masked (all the file adds), a secrets folder that is a link is left unread: its row is all of it,
        so every other command works (one that keeps a secret says what is wrong)."""
        if REDACTED not in config and self.workspace.secrets_dir.is_symlink():
            return None
        return read_kept(self.workspace.secrets_dir, self._secret_file(name).name,
                         again="create the datastore again: `runner datastore create --file <yml>`")

    def names(self) -> list[str]:
        with self.workspace.reading() as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM datastores ORDER BY name")]

    def list(self) -> list[AnyDatastore]:
        return [self.get(name) for name in self.names()]

    def delete(self, name: str) -> None:
        if name == DEFAULT_DATASTORE:
            raise ResolveError(f"the default datastore '{DEFAULT_DATASTORE}' cannot be deleted",
                               hint="create a datastore with that name to point it somewhere else")
        if name not in self.names():  # not loaded: one saved by an older runner may not be valid any more
            self.get(name)  # unknown -> ResolveError listing what exists
        with self.workspace.transaction() as conn:
            conn.execute("DELETE FROM datastores WHERE name = ?", (name,))
        remove_kept(self.workspace.secrets_dir, self._secret_file(name).name)  # a link itself, not its target
        self._open_cache.pop(name, None)

    def open(self, name: str) -> tuple[AnyDatastore, AbstractFileSystem, str]:
        """The datastore, its filesystem, and its root path on that filesystem."""
        ds = self.get(name)
        opened_as = (ds, _env_credentials(ds))
        cached = self._open_cache.get(name)
        if cached is None or cached[0] != opened_as:  # a datastore saved again, or other AZURE_STORAGE_*
            cached = self._open_cache[name] = (opened_as, *ds.open(self.workspace.root))
        return ds, cached[1], cached[2]


def _env_credentials(ds: AnyDatastore) -> str:
    """For an Azure datastore, a digest of the ``AZURE_STORAGE_*`` adlfs reads for what it is not given
    (``mounts.stores.azure_urls.env_credentials_digest``: no secret); "" for any other."""
    if not isinstance(ds, AzureDatastore):
        return ""
    from runner.workspace.transfers import env_credentials_digest  # with Azure only: start-up cost

    return env_credentials_digest()


_ds_name_re = on_first_use(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,254}$")


def _check_name(name: str) -> None:
    if not _ds_name_re().match(name):
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
        return datastore_from_dict(data, created=True)  # its url's protocols known
    except ValidationError as exc:
        raise validation_to_spec_error(exc, where=doc.where) from exc
