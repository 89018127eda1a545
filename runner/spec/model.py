"""The ``Model`` entity (mirrors ``azure.ai.ml.entities.Model``) and model YAML loading.

    model = Model(name="my-model", path="mlflow-model/model.pkl", description="...")
    model = load_model(Path("cli/assets/model/local-file.yml"))

Fields a user sets: name, version, path, type (default ``custom_model``), description, tags, properties,
stage, flavors. Read-only fields filled by the registry: created_at, archived, job_name (lineage: the job
the model came from), datastore_uri (where the files are, as an ``azureml://datastores/...`` URI or an
fsspec URL). ``print(model)`` shows it as YAML, like the Azure SDK.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML

from runner.constants import normalize_model_type
from runner.errors import SpecError
from runner.modes import MODEL_TYPES, AssetType
from runner.spec.names import ASSET_NAME_PATTERN, VERSION_HINT, version_problem, version_text
from runner.spec.yamlio import YamlDoc, load_yaml

MODEL_TYPE_NAMES = tuple(sorted(t.value for t in MODEL_TYPES))
DEFAULT_MODEL_TYPE = AssetType.CUSTOM_MODEL.value
# Azure's model YAML keys (plus read-only ones that `show -o yaml` prints and are ignored on create).
MODEL_YAML_FIELDS = ("$schema", "name", "version", "path", "type", "description", "tags", "properties",
                     "stage", "flavors")
_READ_ONLY_YAML_FIELDS = ("id", "creation_context", "created_at", "archived", "job_name", "datastore_uri",
                          "latest_version")


class Model(BaseModel):
    """A registered (or to-be-registered) model version."""

    model_config = ConfigDict(validate_assignment=True, extra="ignore", populate_by_name=True)

    name: str | None = None
    version: str | None = None
    path: str | None = None
    type: str = DEFAULT_MODEL_TYPE
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    stage: str | None = None
    flavors: dict[str, Any] | None = None
    # read-only, set by the registry
    created_at: datetime | None = None
    archived: bool = False
    job_name: str | None = None
    datastore_uri: str | None = None
    # where a relative local ``path`` is relative to (the YAML's folder); not part of the asset
    base_path: str | None = Field(default=None, exclude=True)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return version_text(value)

    @field_validator("type", mode="before")
    @classmethod
    def _type_default(cls, value: Any) -> Any:
        """None -> custom_model; Azure's ModelType values (``"MLFlowModel"``) -> ``"mlflow_model"``."""
        return DEFAULT_MODEL_TYPE if value is None else normalize_model_type(str(value))

    @field_validator("tags", "properties", mode="before")
    @classmethod
    def _str_values(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @property
    def id(self) -> str | None:
        """``azureml:<name>:<version>`` once registered."""
        return f"azureml:{self.name}:{self.version}" if self.name and self.version else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (what ``show -o json`` prints)."""
        data = self.model_dump(mode="json", exclude={"base_path"})
        if not data.get("flavors"):
            data.pop("flavors", None)
        return data

    def __str__(self) -> str:
        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        out = io.StringIO()
        yaml.dump(self.to_dict(), out)
        return out.getvalue()


def check_model_fields(model: Model, *, doc: YamlDoc | None = None) -> None:
    """Validate name, version and type; raises ``SpecError`` pointing at the field."""
    where = (lambda f: doc.where(f)) if doc else (lambda f: None)  # noqa: E731
    if not model.name or not ASSET_NAME_PATTERN.match(model.name):
        raise SpecError(f"invalid model name {model.name!r}", field="name", where=where("name"),
                        hint="use letters, digits, '-', '_' and '.', starting with a letter or digit")
    problem = None if model.version is None else version_problem(model.version)
    if problem:
        raise SpecError(problem.replace("version", "model version", 1), field="version",
                        where=where("version"), hint=VERSION_HINT)
    if model.type not in MODEL_TYPE_NAMES:
        raise SpecError(f"unknown model type {model.type!r}", field="type", where=where("type"),
                        hint="allowed types: " + ", ".join(MODEL_TYPE_NAMES))
    if not model.path:
        raise SpecError("a model needs a path", field="path", where=where("path"),
                        hint="set path to a local file or folder, azureml://datastores/<ds>/paths/<p>, "
                             "azureml://jobs/<job>/outputs/<out>/paths/<p> or runs:/<run-id>/<p>")


def load_model(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Model:
    """Load a model YAML file (``az ml model create --file``); ``overrides`` are CLI flags."""
    doc = load_yaml(path)
    return model_from_doc(doc, overrides=overrides)


def model_from_doc(doc: YamlDoc, *, overrides: dict[str, Any] | None = None) -> Model:
    data = doc.data
    if not isinstance(data, dict):
        raise SpecError("a model YAML must be a mapping of fields (name, path, type, ...)",
                        where=doc.where(), hint="start the file with 'name: <model-name>'")
    for key in data:
        if key not in MODEL_YAML_FIELDS and key not in _READ_ONLY_YAML_FIELDS:
            raise SpecError(f"unknown field '{key}' in a model", field=str(key), where=doc.where((key,)),
                            hint="allowed fields: " + ", ".join(MODEL_YAML_FIELDS))
    fields = {k: v for k, v in data.items() if k in MODEL_YAML_FIELDS and k != "$schema"}
    fields.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        model = Model.model_validate({**fields, "base_path": str(doc.base_dir)})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        raise SpecError(f"{first['msg']} (got {first.get('input')!r})", field=".".join(loc),
                        where=doc.where(loc), hint="see `runner model create --help` for the fields") from exc
    check_model_fields(model, doc=doc)
    return model
