"""The ``Data`` entity (mirrors ``azure.ai.ml.entities.Data``) and data asset YAML loading.

    data = Data(name="iris", path="example-data/", type="uri_folder", description="...")
    data = load_data(Path("cli/assets/data/local-folder-sampledata.yml"))

Types: ``uri_file`` (one file), ``uri_folder`` (a folder, the default), ``mltable`` (a folder with an
``MLTable`` file). Azure's data YAML keys: name, version, description, tags, properties, path, type and
``datastore`` (where a local path is uploaded; default ``workspaceblobstore``). What it shares with
``Model`` is ``runner.spec.asset.AssetBase``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import field_validator

from runner.modes import AssetType
from runner.spec.asset import (
    AZURE_ASSET_KEYWORDS,
    AssetBase,
    AssetSchema,
    asset_from_doc,
    check_asset_fields,
)
from runner.spec.yamlio import YamlDoc, load_yaml

DATA_TYPES = frozenset({AssetType.URI_FILE, AssetType.URI_FOLDER, AssetType.MLTABLE})
DATA_TYPE_NAMES = tuple(sorted(t.value for t in DATA_TYPES))
DEFAULT_DATA_TYPE = AssetType.URI_FOLDER.value
DATA_YAML_FIELDS = ("$schema", "name", "version", "path", "type", "description", "tags", "properties",
                    "datastore")
DATA_SCHEMA = AssetSchema(noun="data asset", cli="data", types=DATA_TYPE_NAMES, yaml_fields=DATA_YAML_FIELDS)
MLTABLE_FILE = "MLTable"


class Data(AssetBase):
    """A registered (or to-be-registered) data asset version."""

    type: str = DEFAULT_DATA_TYPE
    datastore: str | None = None  # where a local path is uploaded (None: the default datastore)

    azure_only_keywords: ClassVar[tuple[str, ...]] = (
        *AZURE_ASSET_KEYWORDS, "skip_validation", "mltable_schema_url", "referenced_uris")

    @field_validator("type", mode="before")
    @classmethod
    def _type_default(cls, value: Any) -> Any:
        return DEFAULT_DATA_TYPE if value is None else str(value).lower()

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if not data.get("datastore"):
            data.pop("datastore", None)
        return data


def check_data_fields(data: Data, *, doc: YamlDoc | None = None) -> None:
    """Validate name, version, type and path; raises ``SpecError`` pointing at the field."""
    check_asset_fields(data, DATA_SCHEMA, doc=doc)


def load_data(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Data:
    """Load a data asset YAML file (``az ml data create --file``); ``overrides`` are CLI flags."""
    return data_from_doc(load_yaml(path), overrides=overrides)


def data_from_doc(doc: YamlDoc, *, overrides: dict[str, Any] | None = None) -> Data:
    return asset_from_doc(Data, DATA_SCHEMA, doc, overrides=overrides)
