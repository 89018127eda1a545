"""Outputs with ``name`` (and ``version``) set are registered when the job completes, as Azure does: a
model output (``custom_model``, ``mlflow_model``, ``triton_model``) as a model version, a ``uri_file``,
``uri_folder`` or ``mltable`` output as a data asset version; the path is the job's output
(``azureml://jobs/<job>/outputs/<out>``), so the job is recorded as the version's lineage. A version made
under an archived model or data asset is archived too (as in Azure ML), hidden from ``list``: the job's
record says so (``extra["registered_archived"]``: the reference and why), and its summary.

A registration that fails fails the job, saying so: its command completed and its outputs were uploaded
before, so they are whole, not partial (``failed_at_registration``: the record says where it failed, and
registering or downloading the output later warns of nothing partial). The versions registered before
the output that failed stay registered, and in the record (``RegistrationFailed.registered``): the error
names them, as ``job show`` does."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from runner.errors import RegistryError, RunnerError
from runner.jobs.taken import taken_version
from runner.plan.types import Binding, RunPlan
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.job_output_state import FAILED_AT, REGISTRATION
from runner.workspace.registry import DataRegistry, ModelRegistry, NotThatModelType

log = logging.getLogger(__name__)

REGISTERED_ARCHIVED = "registered_archived"  # the record's extra: {azureml:<name>:<version>: why archived}


@dataclass
class Registered:
    """``azureml:<name>:<version>`` of each version registered from a job's outputs."""

    models: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    archived: dict[str, str] = field(default_factory=dict)  # born archived: the reference -> why

    def record_extra(self, extra: dict[str, object]) -> None:
        """Note in a record's ``extra`` the versions born archived (nothing when none was)."""
        if self.archived:
            extra[REGISTERED_ARCHIVED] = dict(self.archived)


class RegistrationFailed(RegistryError):
    """Registering an output failed; ``registered``: the versions registered before it (they stay)."""

    def __init__(self, message: str, *, registered: Registered, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.registered = registered


def register_outputs(ws: Workspace, record: JobRecord, plan: RunPlan) -> Registered:
    """Register every output that asks for it (a model or a data asset, by the output's type); one that
    fails raises ``RegistrationFailed``, holding the versions registered before it."""
    registered = Registered()
    if not any(binding.registered_as for binding in plan.outputs):
        return registered  # the common case: nothing to register
    models, data = ModelRegistry(ws), DataRegistry(ws)
    for binding in plan.outputs:
        target = binding.registered_as
        if target is None:
            continue
        path = f"azureml://jobs/{record.name}/outputs/{binding.name}"
        description = f"output '{binding.name}' of job {record.name}"
        try:
            if target.kind == "data":
                created: Model | Data = data.create(Data(name=target.name, version=target.version,
                                                         type=binding.type.value, path=path,
                                                         description=description))
            else:
                created = models.create(Model(name=target.name, version=target.version,
                                              type=binding.type.value, path=path, description=description))
        except RunnerError as err:  # a version created while the job ran: name the output's field
            taken = taken_version(ws, target, binding.name, field=_version_field(record, binding.name))
            own = (err.job_hint or err.hint) if isinstance(err, NotThatModelType) else err.hint
            hint = taken.hint if taken else own
            raise _failed(binding, err, registered, hint=hint) from err
        ref = f"azureml:{created.name}:{created.version}"
        (registered.data if target.kind == "data" else registered.models).append(ref)
        if created.archived:  # under an archived container: born archived, as Azure makes it
            cli = "data" if target.kind == "data" else "model"
            registered.archived[ref] = (
                f"{target.noun} '{created.name}' is archived, so its new version {created.version} is "
                f"archived too (as in Azure ML): hidden from `runner {cli} list` (--include-archived shows "
                f"it); `runner {cli} restore --name {created.name}` restores the {target.noun}")
        log.info("registered output %s of job %s as %s %s:%s", binding.name, record.name, target.kind,
                 created.name, created.version)
    return registered


def failed_at_registration(extra: dict[str, object]) -> None:
    """Note in a record's ``extra`` that the job failed registering its outputs, once they were whole."""
    extra[FAILED_AT] = REGISTRATION


def _version_field(record: JobRecord, output: str) -> str:
    """The output's ``version`` field as written: a pipeline step's is in the pipeline file, under
    ``jobs.<step>`` (its job is named ``<pipeline>-<step>``, ``runner.pipelines.graph.step_job_name``)."""
    parent = record.spec.get("parent_job_name")
    if isinstance(parent, str) and record.name.startswith(f"{parent}-"):
        return f"jobs.{record.name[len(parent) + 1:]}.outputs.{output}.version"
    return f"outputs.{output}.version"


def _failed(binding: Binding, err: RunnerError, registered: Registered, *,
            hint: str | None) -> RegistrationFailed:
    target = binding.registered_as
    assert target is not None
    before = [f"model {ref}" for ref in registered.models] + [f"data asset {ref}" for ref in registered.data]
    kept = (f"; registered before it, and kept (the job's record lists them): {', '.join(before)}"
            if before else "")
    return RegistrationFailed(f"the job's command completed and its outputs were uploaded, but registering "
                              f"output '{binding.name}' as {target.noun} '{target.name}' failed: "
                              f"{err.message}{kept}", registered=registered, hint=hint)
