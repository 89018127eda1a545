"""The seed's snippets import what they need from runner the way they import it from azure.ai.ml."""

from __future__ import annotations

import subprocess
import sys

import pytest
from needs import require_module

import runner


def test_seed_imports() -> None:
    from runner import Input, MLClient, Output, command, load_job  # noqa: F401
    from runner.constants import AssetTypes, InputOutputModes, ModelType
    from runner.entities import BuildContext, Command, Environment, Model  # noqa: F401

    assert AssetTypes.MLFLOW_MODEL == "mlflow_model" and AssetTypes.CUSTOM_MODEL == "custom_model"
    assert AssetTypes.TRITON_MODEL == "triton_model" and AssetTypes.URI_FILE == "uri_file"
    assert InputOutputModes.RO_MOUNT == "ro_mount" and InputOutputModes.DIRECT == "direct"
    assert ModelType.MLFLOW == "MLFlowModel"  # Azure's value


def test_constants_mirror_azure() -> None:
    azure = require_module("azure.ai.ml.constants", "the oracle the constants are compared with")
    from runner import constants

    for name in ("AssetTypes", "ModelType", "InputOutputModes"):
        theirs = {k: v for k, v in vars(getattr(azure, name)).items() if not k.startswith("_")}
        ours = {k: v for k, v in vars(getattr(constants, name)).items() if not k.startswith("_")}
        assert ours == theirs, name


def test_normalize_model_type() -> None:
    from runner.constants import ModelType, normalize_model_type

    assert normalize_model_type(ModelType.MLFLOW) == "mlflow_model"
    assert normalize_model_type("custom_model") == "custom_model"


def test_every_export_resolves() -> None:
    for name in runner.__all__:
        assert getattr(runner, name) is not None
    with pytest.raises(AttributeError):
        runner.does_not_exist  # noqa: B018


def test_model_is_the_registry_entity() -> None:
    from runner.entities import Model
    from runner.spec.model import Model as AssetModel

    assert Model is AssetModel and runner.Model is AssetModel


def test_import_runner_is_light_and_never_imports_azure() -> None:
    code = ("import sys, runner; from runner import Input, command, load_job; "
            "import runner.plan.build, runner.cli.job; "
            "print(sorted(m for m in sys.modules if m.startswith('azure.ai')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_identities_azure_ai_ml_still_gives_at_the_top_import_from_runner() -> None:
    """azureml-examples' data.ipynb: ``from azure.ai.ml import UserIdentityConfiguration`` (azure.ai.ml
    gives the three job identities at the top, deprecated, outside its ``__all__``)."""
    from runner import (
        AmlTokenConfiguration,
        ManagedIdentityConfiguration,
        UserIdentityConfiguration,
        entities,
    )

    assert UserIdentityConfiguration is entities.UserIdentityConfiguration
    assert ManagedIdentityConfiguration is entities.ManagedIdentityConfiguration
    assert AmlTokenConfiguration is entities.AmlTokenConfiguration
    assert "UserIdentityConfiguration" not in runner.__all__  # as azure.ai.ml's
