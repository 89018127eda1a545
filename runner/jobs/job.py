"""``Job``: what ``ml_client.jobs`` returns, a job's record (``runner.workspace.db.JobRecord``) with
azure.ai.ml's attributes read from it.

    returned = ml_client.jobs.create_or_update(job)
    returned.outputs.result          # or returned.outputs["result"]: the output's URI
    returned.description, returned.tags, returned.type, returned.command, returned.creation_context.created_at

The attributes are read-only views of the record (most of them of the submitted spec, ``record.spec``);
they are properties, not fields, so the record's JSON (``runner job show -o json``) keeps its shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from runner.workspace.db import JobRecord


class JobIO(dict[str, str]):
    """A job's inputs or outputs (name -> URI), also by attribute as azure.ai.ml's: ``job.outputs.result``
    is ``job.outputs["result"]``."""

    kind: ClassVar[str] = "input or output"

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):  # copy/pickle probe dunders: never a key
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise AttributeError(f"the job has no {self.kind} '{name}'; its {self.kind}s: {known}") from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validated as ``dict[str, str]`` and serialized as one (a plain dict in the record's JSON)."""
        return core_schema.no_info_after_validator_function(cls, handler(dict[str, str]))


class JobInputs(JobIO):
    kind = "input"


class JobOutputs(JobIO):
    kind = "output"


@dataclass(frozen=True)
class CreationContext:
    """azure.ai.ml's ``SystemData`` of a job: when it was created and last changed (who is not recorded
    locally, so ``created_by`` and ``last_modified_by`` are None)."""

    created_at: datetime
    last_modified_at: datetime
    created_by: str | None = None
    created_by_type: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None


@dataclass(frozen=True)
class JobService:
    """``returned_job.services["Studio"].endpoint``: locally, the command that shows the job."""

    endpoint: str
    type: str = "Studio"


class Job(JobRecord):
    """What ``ml_client.jobs`` returns: the job's record plus azure.ai.ml's attributes: ``inputs`` and
    ``outputs`` by attribute, ``description``, ``tags``, ``properties``, ``type``, ``command``,
    ``environment`` and ``compute`` as submitted, ``id`` (``azureml://jobs/<name>``), ``creation_context``
    and ``services``/``studio_url`` (the command that shows the job)."""

    inputs: JobInputs = Field(default_factory=JobInputs)
    outputs: JobOutputs = Field(default_factory=JobOutputs)

    @property
    def description(self) -> str | None:
        return self.spec.get("description")

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.spec.get("tags") or {})

    @property
    def properties(self) -> dict[str, str]:
        return dict(self.spec.get("properties") or {})

    @property
    def type(self) -> str:
        """``command`` or ``pipeline``."""
        return str(self.spec.get("type") or "command")

    @property
    def command(self) -> str | None:
        """The command as written (a pipeline has none)."""
        return self.spec.get("command")

    @property
    def environment(self) -> str | dict[str, Any] | None:
        """The environment as written: a reference (``azureml:<name>@latest``) or an inline one."""
        return self.spec.get("environment")

    @property
    def compute(self) -> str | None:
        """The ``compute`` as written (None: this machine)."""
        return self.spec.get("compute")

    @property
    def id(self) -> str:
        """``azureml://jobs/<name>``: the job in runner's URI forms (its outputs are under it)."""
        return f"azureml://jobs/{self.name}"

    @property
    def creation_context(self) -> CreationContext:
        """``created_at``, and ``last_modified_at``: the record's last status change."""
        return CreationContext(created_at=self.created_at,
                               last_modified_at=self.ended_at or self.started_at or self.created_at)

    @property
    def studio_url(self) -> str:
        return f"runner job show --name {self.name}"

    @property
    def services(self) -> dict[str, Any]:
        tracking = f"file://{Path(self.job_dir or '.') / 'mlruns'}"
        return {"Studio": JobService(endpoint=self.studio_url),
                "Tracking": JobService(endpoint=tracking, type="Tracking")}


def as_job(record: JobRecord) -> Job:
    return record if isinstance(record, Job) else Job.model_validate(record.model_dump())
