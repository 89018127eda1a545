"""The ``Model`` entity (mirrors ``azure.ai.ml.entities.Model``) and model YAML loading.

    model = Model(name="my-model", path="mlflow-model/model.pkl", description="...")
    model = load_model(Path("cli/assets/model/local-file.yml"))

Fields a user sets: name, version, path, type (default ``custom_model``), description, tags, properties,
stage, flavors. Read-only fields filled by the registry: created_at, archived, job_name (lineage: the job
the model came from), datastore_uri (where the files are, as an ``azureml://datastores/...`` URI or an
fsspec URL). ``print(model)`` shows it as YAML, like the Azure SDK. What it shares with ``Data`` is
``runner.spec.asset.AssetBase``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import field_validator

from runner.constants import normalize_model_type
from runner.modes import MODEL_TYPES, AssetType
from runner.spec.asset import (
    AZURE_ASSET_KEYWORDS,
    AssetBase,
    AssetSchema,
    asset_from_doc,
    check_asset_fields,
)
from runner.spec.yamlio import YamlDoc, load_yaml

MODEL_TYPE_NAMES = tuple(sorted(t.value for t in MODEL_TYPES))
DEFAULT_MODEL_TYPE = AssetType.CUSTOM_MODEL.value
# Azure's model YAML keys (plus read-only ones that `show -o yaml` prints and are ignored on create).
MODEL_YAML_FIELDS = ("$schema", "name", "version", "path", "type", "description", "tags", "properties",
                     "stage", "flavors")
MODEL_SCHEMA = AssetSchema(noun="model", cli="model", types=MODEL_TYPE_NAMES, yaml_fields=MODEL_YAML_FIELDS)


class Model(AssetBase):
    """A registered (or to-be-registered) model version."""

    type: str = DEFAULT_MODEL_TYPE
    stage: str | None = None
    flavors: dict[str, Any] | None = None

    azure_only_keywords: ClassVar[tuple[str, ...]] = (
        *AZURE_ASSET_KEYWORDS, "utc_time_created", "datastore", "default_deployment_template",
        "allowed_deployment_templates", "intellectual_property", "system_metadata")

    @field_validator("type", mode="before")
    @classmethod
    def _type_default(cls, value: Any) -> Any:
        """None -> custom_model; Azure's ModelType values (``"MLFlowModel"``) -> ``"mlflow_model"``."""
        return DEFAULT_MODEL_TYPE if value is None else normalize_model_type(str(value))

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if not data.get("flavors"):
            data.pop("flavors", None)
        return data


def check_model_fields(model: Model, *, doc: YamlDoc | None = None) -> None:
    """Validate name, version and type; raises ``SpecError`` pointing at the field."""
    check_asset_fields(model, MODEL_SCHEMA, doc=doc)


def load_model(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Model:
    """Load a model YAML file (``az ml model create --file``); ``overrides`` are CLI flags."""
    return model_from_doc(load_yaml(path), overrides=overrides)


def model_from_doc(doc: YamlDoc, *, overrides: dict[str, Any] | None = None) -> Model:
    return asset_from_doc(Model, MODEL_SCHEMA, doc, overrides=overrides)
