"""The model tables: ``ModelStore`` is the asset store (``runner.workspace.assets``) over ``models`` and
``model_containers``, with the model's own columns (stage, flavors); ``stage`` can change on a version, as
in Azure ML (free text: ``Development``, ``Production``, ...), like description and tags.

``ModelStore`` is what resolution needs (``azureml:<name>:<version>`` → a model's row) and what the
registry (``runner.workspace.registry``) builds on to register new versions. The rules (archive, the
mutable fields, registry namespaces) are ``AssetStore``'s, shared with data assets.
"""

from __future__ import annotations

import json
from typing import Any

from runner.spec.model import MODEL_SCHEMA, Model
from runner.workspace.asset_places import MODEL_UPLOAD_FOLDER
from runner.workspace.assets import AssetStore, AssetTable

Models = list[Model]

MODEL_TABLE = AssetTable(schema=MODEL_SCHEMA, versions="models", containers="model_containers",
                         registry_segment="models", upload_folder=MODEL_UPLOAD_FOLDER)


class ModelStore(AssetStore[Model]):
    """The model versions of a workspace, or of one registry namespace in it (``registry_name``)."""

    table = MODEL_TABLE
    updatable = ("stage",)

    def _entity(self, data: dict[str, Any], common: dict[str, Any]) -> Model:
        return Model(**common, stage=data["stage"],
                     flavors=json.loads(data["flavors"]) if data.get("flavors") else None)

    def _own_columns(self, created: Model) -> dict[str, Any]:
        return {"stage": created.stage, "flavors": json.dumps(created.flavors) if created.flavors else None}

    def known_models(self) -> str:
        return self.known()

