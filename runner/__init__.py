"""runner: run Azure-ML-style command jobs on your own machine.

    from runner import Input, Output, command, load_job, load_component, MLClient
    from runner.dsl import pipeline
    from runner.entities import Model, Data, Command, Environment
    from runner.constants import AssetTypes, ModelType, InputOutputModes

Names are imported on first use, so ``import runner`` stays cheap and the CLI starts fast; the package
imports nothing itself (not even ``typing``), because the fork server's client (``runner.launch``)
imports it in an interpreter started without site-packages, where every module counts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (type checkers read it as True), without importing typing
__version__ = "0.1.0"

if TYPE_CHECKING:
    from typing import Any

    from runner.builder import command, load_job
    from runner.client import MLClient
    from runner.components import load_component
    from runner.constants import AssetTypes, InputOutputModes, ModelType
    from runner.entities import BuildContext, Command, Environment, Input, Output
    from runner.loaders import load_data, load_datastore, load_environment, load_model
    from runner.spec.data import Data
    from runner.spec.job_settings import (
        MpiDistribution,
        PyTorchDistribution,
        RayDistribution,
        TensorFlowDistribution,
    )
    from runner.spec.model import Model

_EXPORTS = {
    "Input": "runner.entities",
    "Output": "runner.entities",
    "Command": "runner.entities",
    "Environment": "runner.entities",
    "BuildContext": "runner.entities",
    "Model": "runner.spec.model",
    "Data": "runner.spec.data",
    "command": "runner.builder",
    "load_job": "runner.builder",
    "load_component": "runner.components",
    "MLClient": "runner.client",
    "AssetTypes": "runner.constants",
    "ModelType": "runner.constants",
    "InputOutputModes": "runner.constants",
    "load_model": "runner.loaders",
    "load_data": "runner.loaders",
    "load_environment": "runner.loaders",
    "load_datastore": "runner.loaders",
    "MpiDistribution": "runner.spec.job_settings",  # azure.ai.ml exports its distributions at the top too
    "PyTorchDistribution": "runner.spec.job_settings",
    "TensorFlowDistribution": "runner.spec.job_settings",
    "RayDistribution": "runner.spec.job_settings",
    # azure.ai.ml still gives these at the top (deprecated there, not in its __all__): scripts import them
    "UserIdentityConfiguration": "runner.entities_credentials",
    "ManagedIdentityConfiguration": "runner.entities_credentials",
    "AmlTokenConfiguration": "runner.entities_credentials",
}

__all__ = [
    "AssetTypes", "BuildContext", "Command", "Data", "Environment", "Input", "InputOutputModes", "MLClient",
    "Model", "ModelType", "MpiDistribution", "Output", "PyTorchDistribution", "RayDistribution",
    "TensorFlowDistribution", "__version__", "command", "load_component", "load_data", "load_datastore",
    "load_environment", "load_job", "load_model",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        from runner.unsupported import TOP_LEVEL, not_supported  # only for a name runner does not have

        refused = not_supported(f"runner.{name} (azure.ai.ml's)", name) if name in TOP_LEVEL else None
        if refused is not None:
            raise refused
        raise AttributeError(f"module 'runner' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
