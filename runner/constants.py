"""Constants with the names and values of ``azure.ai.ml.constants`` (so seed snippets work unchanged).

    from runner.constants import AssetTypes, ModelType, InputOutputModes, ListViewType
"""

from __future__ import annotations

from runner.modes import AssetType


class AssetTypes:
    """Azure's asset type names, for ``Input(type=...)``, ``Output(type=...)`` and ``Model(type=...)``."""

    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"
    MLFLOW_MODEL = "mlflow_model"
    TRITON_MODEL = "triton_model"
    CUSTOM_MODEL = "custom_model"


class ModelType:
    """Azure's model type names; ``normalize_model_type`` maps them to the asset types."""

    CUSTOM = "CustomModel"
    MLFLOW = "MLFlowModel"
    TRITON = "TritonModel"


class InputOutputModes:
    """Azure's mode names, for ``Input(mode=...)`` and ``Output(mode=...)`` (the matrix decides which
    type takes which)."""

    MOUNT = "mount"  # Azure's generic mount; runner treats it as ro_mount (inputs) / rw_mount (outputs)
    DOWNLOAD = "download"
    UPLOAD = "upload"
    RO_MOUNT = "ro_mount"
    RW_MOUNT = "rw_mount"
    EVAL_MOUNT = "eval_mount"  # mltable only in Azure; not supported locally (AZURE_ONLY_MODES)
    EVAL_DOWNLOAD = "eval_download"  # mltable only in Azure; not supported locally (AZURE_ONLY_MODES)
    DIRECT = "direct"


# Azure's modes the runner does not offer (they evaluate v1 mltable datasets on the cloud, for inputs) ->
# the input modes to use instead, the closer first; an output is told rw_mount (or upload)
AZURE_ONLY_MODES: dict[str, tuple[str, str]] = {
    InputOutputModes.EVAL_MOUNT: (InputOutputModes.RO_MOUNT, InputOutputModes.DOWNLOAD),
    InputOutputModes.EVAL_DOWNLOAD: (InputOutputModes.DOWNLOAD, InputOutputModes.RO_MOUNT),
}


class ListViewType:
    """Azure's ``list_view_type`` values, for ``ml_client.models.list(list_view_type=...)`` (and data)."""

    ACTIVE_ONLY = "ActiveOnly"
    ARCHIVED_ONLY = "ArchivedOnly"
    ALL = "All"


_MODEL_TYPE_ALIASES = {
    ModelType.CUSTOM.lower(): AssetType.CUSTOM_MODEL.value,
    ModelType.MLFLOW.lower(): AssetType.MLFLOW_MODEL.value,
    ModelType.TRITON.lower(): AssetType.TRITON_MODEL.value,
}


def normalize_model_type(value: str) -> str:
    """``"MLFlowModel"`` / ``"mlflow_model"`` -> ``"mlflow_model"`` (unknown values are returned as is)."""
    return _MODEL_TYPE_ALIASES.get(value.lower(), value)
