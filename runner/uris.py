"""Azure ML path formats parsed into small frozen types (no I/O here).

| written                                                        | parsed as                |
|----------------------------------------------------------------|--------------------------|
| ``model.pkl``, ``/abs``, ``file:///abs``, ``file:/abs``, ``file:rel`` (``file_urls``) | ``LocalPath``  |
| ``azureml://datastores/<ds>/paths/<p>``                          | ``DatastorePath``        |
| ``azureml://subscriptions/../workspaces/../datastores/<ds>/paths/<p>`` | ``DatastorePath``  |
| ``azureml://jobs/<job>/outputs/<out>[/paths/<p>]``               | ``JobOutputPath``        |
| ``runs:/<run-id>/<p>``                                           | ``JobOutputPath`` (artifacts) |
| ``azureml:<name>:<version>``, ``azureml:<name>@latest``          | ``ModelRef``             |
| ``azureml://registries/<reg>/models/<name>/versions/<v>``         | ``ModelRef`` (registry)  |
| ``azureml://registries/<reg>/data/<name>/versions/<v>``           | ``ModelRef`` (registry)  |
| ``azureml:/subscriptions/../workspaces/../data/<name>/versions/<v>``, likewise models/ | ``ModelRef`` |
| ``azureml://locations/<loc>/workspaces/<id>/data/<name>/versions/<v>``, likewise models/ | ``ModelRef`` |
| ``wasbs://<container>@<account>.blob.core.windows.net/<p>``      | ``StorageUrl``           |
| ``wasb://<container>@<account>.blob.core.windows.net/<p>``       | ``StorageUrl``           |
| ``https://<account>.blob.core.windows.net/<container>/<p>``      | ``StorageUrl``           |
| ``abfss://<container>@<account>.dfs.core.windows.net/<p>``       | ``StorageUrl``           |
| ``abfs://<container>@<account>.dfs.core.windows.net/<p>``        | ``StorageUrl``           |
| ``http://127.0.0.1:10000/<account>/<container>/<p>`` (an emulator) | ``StorageUrl``         |
| ``abfs://<container>/<p>``, ``az://``, ``s3://``, ``memory://`` ... | ``FsspecUrl``          |
| ``simplecache::s3://<b>/<k>``, ``zip://<member>::file:///<archive>`` (chained) | ``FsspecUrl``   |

``ModelRef`` is the parsed ``azureml:<name>:<version>`` of a model or a data asset alike: the input's
type decides which registry it names. Azure's long asset IDs (ARM IDs, ``azureml://locations/...``) name
this workspace's ``<name>:<version>``: their subscription, group and workspace parts are ignored, as in
the long datastore form; they (and registry URLs) say whether they name data or a model (``kind``), which
``check_asset_kind`` holds against the input's type. A ``StorageUrl`` is one of the forms Azure accepts
for a blob or Data Lake path; resolution maps it to the registered datastore of the same account and
container. A chained fsspec URL is fsspec's (a cache over this machine's files is refused: give its path);
only a cache or an archive wraps a link, a host file is the last one, and ``reference://`` and the
other ``OPEN_ENDED`` protocols (their content names the files they read) are refused
(``runner.fsspec_links.refuse_protocols``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runner.errors import SpecError
from runner.file_urls import file_path, is_file_form, local_file_url  # local_file_url: datastores' too
from runner.fsspec_links import (
    CACHES,
    CHAIN_FORMS,
    HOST_PROTOCOLS,
    OPEN_ENDED,
    WRAPPERS,
    fsspec_protocols,
    refuse_protocols,
)
from runner.lazy_re import on_first_use
from runner.url_secrets import DATASTORE_CREATE, datastore_hint_in_python, without_secrets
from runner.url_secrets import has_password as has_password  # re-exported: a path's secrets, never shown
from runner.url_secrets import refuse_ipv6_double_colon as refuse_ipv6_double_colon
from runner.url_secrets import without_password as without_password
from runner.url_secrets import without_query as without_query

ARTIFACTS = "artifacts"  # the reserved output name of a job's default artifact location
MODEL_TYPES = ("custom_model", "mlflow_model", "triton_model")  # the input types that read a model
DATA_TYPES = ("uri_folder", "uri_file", "mltable")  # ... and those that read a data asset


@dataclass(frozen=True)
class LocalPath:
    path: str  # as written; relative paths resolve against the spec file's folder

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class DatastorePath:
    datastore: str
    path: str  # relative to the datastore root, no leading slash

    def __str__(self) -> str:
        return f"azureml://datastores/{self.datastore}/paths/{self.path}"


@dataclass(frozen=True)
class JobOutputPath:
    job: str
    output: str
    path: str = ""  # relative to the output's location

    def __str__(self) -> str:
        base = f"azureml://jobs/{self.job}/outputs/{self.output}"
        return f"{base}/paths/{self.path}" if self.path else base


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str | None = None  # None with label "latest"
    label: str | None = None
    registry: str | None = None
    segment: str = "models"  # a registry's: azureml://registries/<r>/<segment>/... (models or data)
    # what a long ID or registry URL names ("data" or "models"); None for azureml:<n>:<v> (the input's
    # type decides); not part of the identity
    kind: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.registry:
            return f"azureml://registries/{self.registry}/{self.segment}/{self.name}/versions/{self.version}"
        if self.label:
            return f"azureml:{self.name}@{self.label}"
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}"


@dataclass(frozen=True)
class FsspecUrl:
    url: str

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class StorageUrl:
    """An Azure Storage URL in one of the forms Azure accepts as a path (no I/O: just its parts)."""

    account: str
    container: str
    path: str  # inside the container, no leading slash
    endpoint: str  # the account's blob endpoint: https://<a>.blob.core.windows.net, http://127.0.0.1:10000/<a>
    written: str  # as given

    def __str__(self) -> str:
        return self.written


@dataclass(frozen=True)
class EnvironmentRef:
    """``azureml:<env>:<ver>``, ``azureml:<env>@latest`` or ``azureml://registries/<r>/environments/...``"""

    name: str
    version: str | None = None
    label: str | None = None
    registry: str | None = None

    def __str__(self) -> str:
        if self.registry:
            tail = f"versions/{self.version}" if self.version else f"labels/{self.label}"
            return f"azureml://registries/{self.registry}/environments/{self.name}/{tail}"
        return f"azureml:{self.name}@{self.label}" if self.label else f"azureml:{self.name}:{self.version}"


PathRef = LocalPath | DatastorePath | JobOutputPath | ModelRef | StorageUrl | FsspecUrl

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_datastore_re = on_first_use(
    rf"^azureml://(?:subscriptions/[^/]+/resource[gG]roups/[^/]+/(?:providers/[^/]+/)?workspaces/[^/]+/)?"
    rf"datastores/(?P<ds>{_NAME})/paths/?(?P<path>.*)$")
_job_re = on_first_use(rf"^azureml://jobs/(?P<job>{_NAME})/outputs/(?P<out>{_NAME})"
                       r"(?:/paths/?(?P<path>.*))?/?$")
_runs_re = on_first_use(rf"^runs:/(?P<job>{_NAME})(?:/(?P<path>.*))?$")
_reg_model_re = on_first_use(rf"^azureml://registries/(?P<reg>{_NAME})/(?P<segment>models|data)"
                             rf"/(?P<name>{_NAME})/versions/(?P<ver>{_NAME})$")
# an asset's ARM ID (azureml:/subscriptions/...) or its azureml://locations/... form: this workspace's
_asset_id_re = on_first_use(
    rf"^(?:azureml:/subscriptions/[^/]+/resource[gG]roups/[^/]+/(?:providers/[^/]+/)?workspaces/[^/]+"
    rf"|azureml://locations/[^/]+/workspaces/[^/]+)/(?P<segment>data|datasets|models)/(?P<name>{_NAME})"
    rf"/versions/(?P<ver>{_NAME})$")
_ASSET_ID_FORMS = ("azureml:/subscriptions/", "azureml://locations/", "azureml://registries/")
_reg_env_re = on_first_use(
    rf"^azureml://registries/(?P<reg>{_NAME})/environments/(?P<name>{_NAME})"
    rf"(?:/versions/(?P<ver>{_NAME})|/labels/(?P<label>{_NAME}))?$")
_short_re = on_first_use(rf"^azureml:(?P<name>{_NAME}?)(?::(?P<ver>{_NAME})|@(?P<label>{_NAME}))$")
_scheme_re = on_first_use(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
# a chained fsspec URL whose first link names its protocol alone: simplecache::s3://b/k
_chained_re = on_first_use(r"^[A-Za-z][A-Za-z0-9+.\-]*::")
_host_link_re = on_first_use(r"^(?:file|local)://")  # fsspec's names for this machine's filesystem
# <container>@<account>.<blob|dfs>.<suffix>/<path> (wasb, wasbs, abfs, abfss)
_at_form_re = on_first_use(r"^(?P<scheme>wasbs?|abfss?)://(?P<container>[^@/]+)@(?P<account>[a-z0-9]+)"
                           r"\.(?:blob|dfs)\.(?P<suffix>[^/]+)(?:/(?P<path>.*))?$", re.IGNORECASE)
# https://<account>.<blob|dfs>.<suffix>/<container>/<path>
_host_form_re = on_first_use(r"^(?P<scheme>https?)://(?P<account>[a-z0-9]+)\.(?:blob|dfs)\.(?P<suffix>[^/:]+)"
                             r"/(?P<container>[^/]+)(?:/(?P<path>.*))?$", re.IGNORECASE)
# path-style (emulators such as Azurite): http://127.0.0.1:10000/<account>/<container>/<path>
_path_style_re = on_first_use(r"^(?P<scheme>https?)://(?P<host>127\.\d+\.\d+\.\d+|localhost|\[::1\])"
                              r"(?P<port>:\d+)?/(?P<account>[a-z0-9]+)/(?P<container>[^/]+)"
                              r"(?:/(?P<path>.*))?$",
                              re.IGNORECASE)

_FORMATS = (
    "a local path, azureml://datastores/<ds>/paths/<p>, azureml://jobs/<job>/outputs/<out>[/paths/<p>], "
    "runs:/<run-id>/<p>, azureml:<name>:<version>, azureml:<name>@latest, "
    "azureml://registries/<reg>/models/<name>/versions/<v>, "
    "azureml://registries/<reg>/data/<name>/versions/<v>, a storage URL (wasbs://, https://<account>"
    ".blob.core.windows.net/..., abfss://) or an fsspec URL (abfs://, s3://, file://, or chained: "
    "simplecache::s3://<bucket>/<key>, zip://<member>::file:///<archive>)")


def _clean(path: str | None) -> str:
    return (path or "").strip("/")


def parse_storage_url(value: str) -> StorageUrl | None:
    """The Azure Storage URL forms (``wasbs://``, ``https://<a>.blob...``, ``abfss://``, path-style)."""
    if "://" not in value:  # in every form (so a path compiles none of their patterns)
        return None
    if m := _at_form_re().match(value):
        tls = m["scheme"].lower() in ("wasbs", "abfss")
        endpoint = f"{'https' if tls else 'http'}://{m['account']}.blob.{m['suffix']}"
        return StorageUrl(m["account"], m["container"], _clean(m["path"]), endpoint, value)
    if m := _host_form_re().match(value):
        endpoint = f"{m['scheme'].lower()}://{m['account']}.blob.{m['suffix']}"
        return StorageUrl(m["account"], m["container"], _clean(m["path"]), endpoint, value)
    if m := _path_style_re().match(value):
        endpoint = f"{m['scheme'].lower()}://{m['host']}{m['port'] or ''}/{m['account']}"
        return StorageUrl(m["account"], m["container"], _clean(m["path"]), endpoint, value)
    return None


def _refuse_query(value: str, field: str | None) -> None:
    """A URL (storage, fsspec, azureml) with a query, often a credential (``?sig=...``): never kept."""
    if "?" not in value or value.startswith("file://") or not (  # (the cheap tests first)
            value.startswith(("azureml:", "runs:")) or _scheme_re().match(value)
            or _chained_re().match(value)):
        return
    if value.startswith(("azureml:", "runs:")):  # a query there is never needed, and may be a secret
        hint = f"remove the query: a datastore keeps its credentials (sas_token: <token>, {DATASTORE_CREATE})"
    elif parse_storage_url(value) is not None:
        hint = ("a SAS token is a secret and is never kept in a job: register a datastore with it "
                "(credentials: sas_token: <token>, `runner datastore create --file <datastore.yml>`) and "
                "use azureml://datastores/<name>/paths/<path>; a public container needs no query")
    else:
        hint = ("a query string can hold a secret (a SAS token, a pre-signed URL's signature) and would be "
                "kept in the job record: register a datastore for the store (`runner datastore create "
                "--file <datastore.yml>`, credentials in its storage_options) and use "
                "azureml://datastores/<name>/paths/<path>, or download the file and give its local path")
    raise SpecError(f"'{without_secrets(value)}' has a query string; a URL path may not have one",
                    field=field, hint=hint, python_hint=datastore_hint_in_python(hint))


def _refuse_password(value: str, field: str | None) -> None:
    """A URL with a password in its user info (``https://user:password@host/...``): it would be kept in
    the plan and the job record, and shown wherever the path is."""
    if not has_password(value):
        return
    hint = ("a password is a secret and is never kept in a job: register a datastore for the store with it "
            "in its storage_options (`runner datastore create --file <datastore.yml>`, shown as ***) and use "
            "azureml://datastores/<name>/paths/<path>")
    raise SpecError(f"'{without_password(value)}' has a password in it (user:password@); a path may not "
                    "hold one", field=field, hint=hint, python_hint=datastore_hint_in_python(hint))


def parse_path(text: str, *, field: str | None = None) -> PathRef:
    """Parse a ``path:`` value into a typed reference. Raises ``SpecError`` for malformed azureml URIs
    and for a URL with a query string or a password (never echoing either: they are secrets)."""
    value = text.strip()
    if not value:
        raise SpecError("path is empty", field=field, hint="give a path in one of: " + _FORMATS)
    _refuse_query(value, field)
    _refuse_password(value, field)
    if value.startswith(("azureml:", "runs:")):  # as each of their patterns: a path compiles none of them
        return _azureml(value, field)
    if is_file_form(value):  # file:///x, file://localhost/x, file:/x (decoded), file:<relative>
        return LocalPath(file_path(value, field))
    if "::" in value and _chained_re().match(value):  # (a path holding neither compiles neither pattern)
        return _chained(value, field)
    if url := parse_storage_url(value):
        return url
    if value.lower().startswith(("wasb://", "wasbs://")):
        raise SpecError(f"'{value}' is not a valid blob URL", field=field,
                        hint="write wasbs://<container>@<account>.blob.core.windows.net/<path>")
    if "://" in value and _scheme_re().match(value):
        refuse_ipv6_double_colon(value, field)  # [::1]: fsspec would split it as a chain
        value = local_file_url(value, field)  # zip://a::file://localhost/x.zip: file:///x.zip
        refuse_protocols(value, fsspec_protocols(value), field)
        return FsspecUrl(value)
    return LocalPath(value)


def _azureml(value: str, field: str | None) -> PathRef:
    """What ``parse_path`` makes of an ``azureml:`` or ``runs:`` value."""
    if m := _datastore_re().match(value):
        return DatastorePath(m["ds"], _clean(m["path"]))
    if m := _job_re().match(value):
        return JobOutputPath(m["job"], m["out"], _clean(m["path"]))
    if m := _runs_re().match(value):
        return JobOutputPath(m["job"], ARTIFACTS, _clean(m["path"]))
    if m := _reg_model_re().match(value):
        return ModelRef(m["name"], version=m["ver"], registry=m["reg"], segment=m["segment"],
                        kind=m["segment"])
    if m := _asset_id_re().match(value):
        return ModelRef(m["name"], version=m["ver"], kind="models" if m["segment"] == "models" else "data")
    if value.startswith(_ASSET_ID_FORMS):
        raise SpecError(f"'{value}' is not a data or model asset ID", field=field,
                        hint="an asset ID names one version of a data asset or model: azureml:/subscriptions/"
                             "<s>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/"
                             "<w>/{data|models}/<name>/versions/<v> (this workspace's <name>:<v>), "
                             "azureml://locations/<loc>/workspaces/<id>/{data|models}/<name>/versions/<v> or "
                             "azureml://registries/<reg>/{data|models}/<name>/versions/<v>; or write "
                             "azureml:<name>:<version> or azureml:<name>@latest")
    if m := _short_re().match(value):
        if m["label"] and m["label"] != "latest":
            raise SpecError(f"unknown label '{m['label']}' in '{value}'", field=field,
                            hint="the only label is 'latest': azureml:<name>@latest")
        return ModelRef(m["name"], version=m["ver"], label=m["label"])
    if m := re.fullmatch(rf"azureml:(?P<name>{_NAME})[:@]?", value):  # azureml:<name>, no version
        raise SpecError(f"'{value}' names no version of the model or data asset '{m['name']}'", field=field,
                        hint=f"add a version: azureml:{m['name']}:<version> or azureml:{m['name']}@latest")
    raise SpecError(f"'{value}' is not a valid path", field=field, hint="use " + _FORMATS)


def _chained(value: str, field: str | None) -> FsspecUrl:
    """A chained fsspec URL (``simplecache::s3://b/k``): fsspec's. A cache over this machine's files is
    refused: it caches nothing its path does not give, and a cache datastore reads them with no link."""
    refuse_ipv6_double_colon(value, field)  # simplecache::sftp://[::1]/x: no '::' of a chain
    *wrappers, target = links = value.split("::")
    if not all(links):
        raise SpecError(f"'{value}' has an empty link ('::' with nothing before or after it)", field=field,
                        hint="a chained fsspec URL is <protocol>::<url>, e.g. simplecache::s3://<bucket>/"
                             "<key> or zip://<member>::file:///<archive>; a local path holding '::' is "
                             "written ./<path>")
    if not (_scheme_re().match(target) or wrappers[0] in WRAPPERS or wrappers[0] in HOST_PROTOCOLS
            or wrappers[0] in OPEN_ENDED):  # data::v2/x.csv, a local path? no chain: 'data' wraps nothing
        raise SpecError(f"'{value}' reads as a chained fsspec URL whose first link is '{wrappers[0]}', but "
                        "only a cache or an archive reads the link after it", field=field,
                        hint=f"a local path holding '::' is written ./{value}; {CHAIN_FORMS}")
    if all(w in CACHES for w in wrappers) and (_host_link_re().match(target)
                                               or not _scheme_re().match(target)):
        path = _host_link_re().sub("", file_path(target, field))
        raise SpecError(f"'{value}' is a cache over this machine's files, which a path may not be: it "
                        "caches nothing its path does not give, and would read links a cache datastore "
                        "refuses", field=field,
                        hint=f"give the path itself ('{path}'), or register a datastore caching its folder "
                             "(type: fsspec, url: simplecache::file:///<folder>: it follows no link below "
                             "it) and use azureml://datastores/<name>/paths/<path>")
    value = local_file_url(value, field)  # file://localhost/x: fsspec would read 'localhost/x' (relative)
    refuse_protocols(value, fsspec_protocols(value), field)
    return FsspecUrl(value)


def check_asset_kind(ref: ModelRef, asset_type: str | None, *, field: str | None = None) -> bool:
    """Whether ``ref`` names a data asset (else a model): the input's (or asset's) type says, and an ID
    that names its kind (``.../data/...``, ``.../models/...``) must agree; with no type, the ID says."""
    if asset_type is None:
        return ref.kind == "data"
    data = asset_type in DATA_TYPES
    if ref.kind is None or (ref.kind == "data") == data:
        return data
    given, wanted = ("a data asset", "a model") if ref.kind == "data" else ("a model", "a data asset")
    other = DATA_TYPES if ref.kind == "data" else MODEL_TYPES
    fix = f"change the type to {', '.join(other[:-1])} or {other[-1]} to read {given}" if field != "path" \
        else f"register {given} with `runner {'data' if ref.kind == 'data' else 'model'} create`"
    raise SpecError(
        f"'{ref.name}' version {ref.version} is {given} (its ID says /{ref.kind}/), but type {asset_type} "
        f"takes {wanted}: {', '.join(MODEL_TYPES)} take models; {', '.join(DATA_TYPES)} take data assets",
        field=field, hint=f"{fix}, or give {wanted} (azureml:<name>:<version>, or an ID with "
                          f"/{'data' if data else 'models'}/)")


def parse_environment(text: str) -> EnvironmentRef | None:
    """Parse an ``environment:`` reference string; ``None`` means it is a plain image name."""
    value = text.strip()
    if not value.startswith("azureml:"):  # as each pattern below: a plain image compiles neither
        return None
    if m := _reg_env_re().match(value):
        label = m["label"] or (None if m["ver"] else "latest")
        return EnvironmentRef(m["name"], version=m["ver"], label=label, registry=m["reg"])
    if m := _short_re().match(value):
        return EnvironmentRef(m["name"], version=m["ver"], label=m["label"])
    if value.startswith("azureml:"):
        raise SpecError(f"'{value}' is not a valid environment reference", field="environment",
                        hint="use azureml:<name>:<version>, azureml:<name>@latest or "
                             "azureml://registries/<reg>/environments/<name>/labels/latest")
    return None
