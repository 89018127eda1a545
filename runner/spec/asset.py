"""What every registered asset (a model version, a data asset version) has, and its YAML loading.

``Model`` (``runner.spec.model``) and ``Data`` (``runner.spec.data``) are ``AssetBase`` with their own
types and extra fields. Fields a user sets: name, version, path, type, description, tags, properties.
Read-only fields filled by the registry: created_at, archived, job_name (lineage: the job the asset came
from), datastore_uri (where the files are, as an ``azureml://datastores/...`` URI or a URL), and on the
entries of a list without a name (one per asset) ``latest_version``, as on Azure's asset containers; and
azure.ai.ml's ``id`` and ``creation_context`` (the shape a job's has), read from them.
``print(asset)`` shows it as YAML, like the Azure SDK.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from ruamel.yaml import YAML

from runner.errors import SourceLocation, SpecError
from runner.spec.creation_context import READ_ONLY_YAML_FIELDS as READ_ONLY_YAML_FIELDS
from runner.spec.creation_context import CreationContext
from runner.spec.names import VERSION_HINT, asset_name_re, version_problem, version_text
from runner.spec.validation import did_you_mean, from_validation_error
from runner.spec.yamlio import YamlDoc

log = logging.getLogger(__name__)

# keywords azure.ai.ml's entities accept (Resource, Asset) that mean nothing here: accepted and ignored
AZURE_ASSET_KEYWORDS = ("print_as_yaml", "id", "source_path", "base_path", "creation_context", "is_anonymous",
                        "auto_increment_version", "auto_delete_setting")
PATH_FORMS = ("a local file or folder, azureml://datastores/<ds>/paths/<p>, "
              "azureml://jobs/<job>/outputs/<out>/paths/<p>, runs:/<run-id>/<p> or a storage URL")


class AssetBase(BaseModel):
    """A registered (or to-be-registered) asset version."""

    model_config = ConfigDict(validate_assignment=True, extra="ignore", populate_by_name=True,
                              defer_build=True)  # its validator: at first use (`job validate`: none)

    name: str | None = None
    version: str | None = None
    path: str | None = None
    type: str = ""
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    # read-only, set by the registry
    created_at: datetime | None = None
    archived: bool = False
    job_name: str | None = None
    datastore_uri: str | None = None
    # set on the entries of ``list()`` without a name (one per asset, as Azure's containers); not dumped
    latest_version: str | None = Field(default=None, exclude=True)
    # where a relative local ``path`` is relative to (the YAML's folder); not part of the asset
    base_path: str | None = Field(default=None, exclude=True)
    # where ``path`` was written (its YAML's file:line:col), for an error about what it names
    _path_where: SourceLocation | None = PrivateAttr(default=None)

    # the keywords of azure.ai.ml's entity runner has no use for (a subclass's own): accepted and ignored
    azure_only_keywords: ClassVar[tuple[str, ...]] = AZURE_ASSET_KEYWORDS

    def __init__(self, **data: Any) -> None:
        """Fields of the wrong type are one ``SpecError`` naming the field (its ``where`` is left to a
        caller that knows the YAML, ``asset_from_doc``); an unknown keyword too (``azure_keywords``)."""
        cls = type(self)
        settable = [f for f in cls.model_fields if f not in READ_ONLY_YAML_FIELDS and f != "base_path"]
        data = azure_keywords(cls.__name__, data, cls.model_fields, cls.azure_only_keywords, settable)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _field_error(exc, type(self), data) from exc

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise _field_error(exc, type(self), {name: value}) from exc

    @field_validator("path", mode="before")
    @classmethod
    def _path_as_text(cls, value: Any) -> Any:
        """azure.ai.ml takes ``Union[str, PathLike]``."""
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return version_text(value)

    @field_validator("tags", "properties", mode="before")
    @classmethod
    def _str_values(cls, value: Any) -> Any:
        """Azure's tags are ``dict[str, str]``: a number or flag becomes its text, None '' (as a job's
        tags); a list or mapping is left for validation to refuse, naming the field (and in a YAML file
        its line), never turned into text such as ``"['a', 'b']"``."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): scalar_text(v) for k, v in value.items()}
        return value

    @property
    def path_where(self) -> SourceLocation | None:
        """Where ``path`` was written, when it came from a YAML file (``asset_from_doc``)."""
        return self._path_where

    @property
    def id(self) -> str | None:
        """``azureml:<name>:<version>`` once registered."""
        return f"azureml:{self.name}:{self.version}" if self.name and self.version else None

    @property
    def creation_context(self) -> CreationContext | None:
        """azure.ai.ml's read-only ``creation_context`` of a registered version (None before): its
        ``created_at``, which is also its ``last_modified_at`` (a version's description and tags change in
        place, at no recorded time); who is not recorded locally. Not dumped (``to_dict``)."""
        if self.created_at is None:
            return None
        return CreationContext(created_at=self.created_at, last_modified_at=self.created_at)

    def _to_dict(self) -> dict[str, str]:
        """As a job's input (``command(inputs={"data": data_asset})``, ``job.inputs.data = model``): its
        type at its id, as azure.ai.ml's ``_data_to_input`` takes a registered asset (``runner.inputs_outputs
        ._plain`` reads it, as it reads a returned job's ``JobInput``)."""
        return {"type": self.type, "path": asset_reference(self)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (what ``show -o json`` prints)."""
        return self.model_dump(mode="json", exclude={"base_path"})

    def __str__(self) -> str:
        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        out = io.StringIO()
        yaml.dump(self.to_dict(), out)
        return out.getvalue()


# the class of an asset object -> its noun in messages and its ``ml_client`` operations
_ASSET_KINDS = {"Model": ("model", "models"), "Data": ("data asset", "data")}


def asset_reference(asset: AssetBase, *, field: str | None = None) -> str:
    """A model or data asset object given where a path is expected (``Input(path=model)``, an input's
    value): its id, ``azureml:<name>:<version>``, as azure.ai.ml takes a registered one. One without a
    name or version (not registered) is one ``SpecError`` (at ``field``, where the caller knows it)."""
    if asset.id:
        return asset.id
    kind = type(asset).__name__
    noun, sdk = _ASSET_KINDS.get(kind, ("asset", "models"))
    raise SpecError(f"the {kind}{f' {asset.name!r}' if asset.name else ''} has no "
                    f"{'version' if asset.name else 'name'}, so it names no registered {noun}", field=field,
                    hint=f"register it and pass what that returns (`registered = "
                         f"ml_client.{sdk}.create_or_update({kind}(...))`), or give "
                         "Input(type=..., path=...) with its path")


def azure_keywords(entity: str, given: Mapping[str, Any], known: Iterable[str], ignored: Iterable[str] = (),
                   listed: Iterable[str] | None = None) -> dict[str, Any]:
    """``given`` (the keywords ``<entity>(...)`` was called with) without the ones azure.ai.ml accepts that
    runner has no use for (``ignored``: logged at debug level, so ported scripts keep working); a keyword
    neither ``known`` nor ignored, a misspelling, is one ``SpecError`` naming it and the close known one
    (``listed``: the ones the hint names, by default ``known``)."""
    known, ignored = list(known), set(ignored)
    for key in given:
        if key not in known and key not in ignored:
            raise SpecError(f"{entity}() got an unknown keyword '{key}'{did_you_mean(key, known)}", field=key,
                            hint=f"{entity}() takes " + ", ".join(known if listed is None else listed))
    dropped = sorted(k for k in given if k in ignored and k not in known)
    if dropped:
        log.debug("%s(): %s ignored (azure.ai.ml keywords with no local meaning)", entity, ", ".join(dropped))
    return {k: v for k, v in given.items() if k not in dropped}


def scalar_text(value: Any) -> Any:
    """A tag's (or property's) value as text when it is a scalar (None is ''); anything else as it is."""
    if value is None:
        return ""
    return str(value) if isinstance(value, bool | int | float) else value


def _field_error(exc: ValidationError, model: type[AssetBase], data: dict[str, Any]) -> SpecError:
    err = from_validation_error(exc, root=model, data=data, doc=None)
    err.where = None
    return err


A = TypeVar("A", bound=AssetBase)


@dataclass(frozen=True)
class AssetSchema:
    """What a kind of asset accepts: its noun in messages, its types and its YAML keys."""

    noun: str  # "model", "data asset"
    cli: str  # the command group: "model", "data"
    types: tuple[str, ...]
    yaml_fields: tuple[str, ...]


def check_asset_fields(asset: AssetBase, schema: AssetSchema, *, doc: YamlDoc | None = None) -> None:
    """Validate name, version, type and path; raises ``SpecError`` pointing at the field."""
    where = (lambda f: doc.where(f)) if doc else (lambda f: None)  # noqa: E731
    if not asset.name:
        raise SpecError(f"a {schema.noun} needs a name", field="name", where=where("name"),
                        hint=f"give it a name (name=... in Python, name: in its YAML, --name with runner "
                             f"{schema.cli} create): letters, digits, '-', '_' and '.'")
    if not asset_name_re().match(asset.name):
        raise SpecError(f"invalid {schema.noun} name {asset.name!r}", field="name", where=where("name"),
                        hint="use letters, digits, '-', '_' and '.', starting with a letter or digit")
    problem = None if asset.version is None else version_problem(asset.version)
    if problem:
        raise SpecError(problem.replace("version", f"{schema.noun} version", 1), field="version",
                        where=where("version"), hint=VERSION_HINT)
    if asset.type not in schema.types:
        raise SpecError(f"unknown {schema.noun} type {asset.type!r}{did_you_mean(asset.type, schema.types)}",
                        field="type", where=where("type"),
                        hint="allowed types: " + ", ".join(schema.types))
    if not asset.path:
        raise SpecError(f"a {schema.noun} needs a path", field="path", where=where("path"),
                        hint="set path to " + PATH_FORMS)


def asset_from_doc(cls: type[A], schema: AssetSchema, doc: YamlDoc, *,
                   overrides: dict[str, Any] | None = None) -> A:
    """An asset from a loaded YAML file (``az ml <kind> create --file``); ``overrides`` are CLI flags."""
    data = doc.data
    if not isinstance(data, dict):
        raise SpecError(f"a {schema.noun} YAML must be a mapping of fields (name, path, type, ...)",
                        where=doc.where(), hint=f"start the file with 'name: <{schema.cli} name>'")
    for key in data:
        if key not in schema.yaml_fields and key not in READ_ONLY_YAML_FIELDS:
            meant = did_you_mean(str(key), schema.yaml_fields)
            raise SpecError(f"unknown field '{key}' in a {schema.noun}{meant}", field=str(key),
                            where=doc.where((key,)), hint="allowed fields: " + ", ".join(schema.yaml_fields))
    fields = {k: v for k, v in data.items() if k in schema.yaml_fields and k != "$schema"}
    fields.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        asset = cls.model_validate({**fields, "base_path": str(doc.base_dir)})
    except SpecError as err:  # a field of the wrong type (``AssetBase.__init__``): say where it is
        field = err.field or ""
        raise err.located(field, doc.where(tuple(field.split(".")) if field else ())) from err
    check_asset_fields(asset, schema, doc=doc)
    if "path" in data and (overrides or {}).get("path") is None:  # where an error about what it names points
        asset._path_where = doc.where(("path",))
    return asset
