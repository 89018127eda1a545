"""The data asset tables: ``DataAssetStore`` is the asset store (``runner.workspace.assets``) over
``data_assets`` and ``data_containers``: the same rules as models (immutable versions, archive hides
from list and stays usable by version, only description and tags change).

Local files of a data asset are copied to ``DataUpload/<name>/<version>/`` on the datastore (models use
``LocalUpload/``, so a model and a data asset of the same name and version never share files).
"""

from __future__ import annotations

from typing import Any

from runner.spec.data import DATA_SCHEMA, Data
from runner.workspace.asset_places import DATA_UPLOAD_FOLDER
from runner.workspace.assets import AssetStore, AssetTable

DATA_TABLE = AssetTable(schema=DATA_SCHEMA, versions="data_assets", containers="data_containers",
                        registry_segment="data", upload_folder=DATA_UPLOAD_FOLDER)


class DataAssetStore(AssetStore[Data]):
    """The data asset versions of a workspace."""

    table = DATA_TABLE

    def _entity(self, data: dict[str, Any], common: dict[str, Any]) -> Data:
        return Data(**common)
