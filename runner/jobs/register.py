"""Outputs with ``name`` (and ``version``) set are registered as model versions when the job completes
(Azure's behaviour), with the job as lineage (``path: azureml://jobs/<job>/outputs/<out>``)."""

from __future__ import annotations

import logging

from runner.errors import RegistryError, RunnerError
from runner.modes import MODEL_TYPES
from runner.plan.types import RunPlan
from runner.spec.model import Model
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.registry import ModelRegistry

log = logging.getLogger(__name__)


def register_output_models(ws: Workspace, record: JobRecord, plan: RunPlan) -> list[str]:
    """Register every output that asks for it; returns ``azureml:<name>:<version>`` of each."""
    if not any(binding.registered_as for binding in plan.outputs):
        return []  # the common case: nothing to register
    registry = ModelRegistry(ws)
    registered: list[str] = []
    for binding in plan.outputs:
        if binding.registered_as is None:
            continue
        name, version = binding.registered_as.name, binding.registered_as.version
        model_type = binding.type.value if binding.type in MODEL_TYPES else "custom_model"
        model = Model(name=name, version=version, type=model_type,
                      path=f"azureml://jobs/{record.name}/outputs/{binding.name}",
                      description=f"output '{binding.name}' of job {record.name}")
        try:
            created = registry.create(model)
        except RunnerError as err:
            raise RegistryError(f"registering output '{binding.name}' as model '{name}' failed: "
                                f"{err.message}", hint=err.hint) from err
        registered.append(f"azureml:{created.name}:{created.version}")
        log.info("registered output %s of job %s as %s", binding.name, record.name, registered[-1])
    return registered
