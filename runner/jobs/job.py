"""``Job``: what ``ml_client.jobs`` returns, a job's record (``runner.workspace.db.JobRecord``) with
azure.ai.ml's attributes read from it.

    returned = ml_client.jobs.create_or_update(job)
    returned.outputs.result.path     # or returned.outputs["result"].path: where the output was written;
    returned.outputs.result.mode     # .type, .name, .version too; returned.inputs.data.path, inputs.lr
    returned.outputs["default"]      # azure.ai.ml's name of the artifact store: outputs.artifacts
    returned.description, returned.tags, returned.type, returned.command, returned.creation_context.created_at
    returned.limits, .resources, .distribution, .queue_settings   # azure.ai.ml's entities (job_settings)
    returned.identity, .code, .environment_variables (as `runner job show` shows them: secrets ***)

The attributes are read-only views of the record (most of them of the submitted spec, ``record.spec``);
they are properties, not fields, so the record's JSON (``runner job show -o json``) keeps its shape:
``inputs`` and ``outputs`` are stored and dumped as the record's name -> URI (``uris``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, GetCoreSchemaHandler, PrivateAttr, field_validator, model_validator
from pydantic_core import CoreSchema, core_schema

from runner.errors import SpecError
from runner.modes import DEFAULT_MODE, AssetType, Direction, Mode
from runner.spec.creation_context import CreationContext
from runner.spec.job_io import LITERAL_TYPES
from runner.spec.job_settings import JobService, setting_of
from runner.spec.validation import did_you_mean
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord
from runner.workspace.job_records import z_status_times


@dataclass(frozen=True)
class JobInput:
    """A path input of a returned job, as azure.ai.ml's: ``.path`` (the resolved URI), ``.type``,
    ``.mode`` (the one the job ran with). A read-only view of the record."""

    path: str
    type: str = AssetType.URI_FOLDER.value
    mode: str = DEFAULT_MODE[Direction.INPUT].value
    description: str | None = None

    def __str__(self) -> str:  # the location, as before inputs had settings: f"{job.inputs.data}"
        return self.path

    def _to_dict(self) -> dict[str, str]:
        """As another job's input (``command(inputs={"d": returned.inputs.d})``): this type and path."""
        return {"type": self.type, "path": self.path}


@dataclass(frozen=True)
class JobOutput:
    """An output of a returned job, as azure.ai.ml's: ``.path`` (where it was written), ``.type``,
    ``.mode``, and ``.name`` / ``.version`` when it registers a model or data asset (``version`` None:
    the next one). A read-only view of the record."""

    path: str
    type: str = AssetType.URI_FOLDER.value
    mode: str = DEFAULT_MODE[Direction.OUTPUT].value
    name: str | None = None
    version: str | None = None
    description: str | None = None

    def __str__(self) -> str:  # the URI, as before outputs had settings: f"{job.outputs.result}"
        return self.path

    def _to_dict(self) -> dict[str, str]:
        """As another job's input (``command(inputs={"m": returned.outputs.model})``): this type and
        path (its mode was the writing job's)."""
        return {"type": self.type, "path": self.path}


class JobIO(dict[str, Any]):
    """A returned job's inputs or outputs, by key and by attribute as azure.ai.ml's:
    ``job.outputs.result`` is ``job.outputs["result"]``, a ``JobOutput``; a path input is a ``JobInput``
    and a literal input its value. Stored (and dumped to JSON) as the record's name -> URI."""

    kind: ClassVar[str] = "input or output"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy/pickle probe dunders: never a key
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise AttributeError(f"the job has no {self.kind} '{name}'; its {self.kind}s: {known}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        """``job.outputs.result = ...`` sets that entry; an input or output the job does not have is one
        ``SpecError`` naming the ones it has (as azure.ai.ml's), never a silent attribute."""
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self:
            self[name] = value
        else:
            group = f"{self.kind}s"
            raise SpecError(f"the job has no {self.kind} '{name}'{did_you_mean(name, self)}; its {group}: "
                            f"{', '.join(sorted(self)) or 'none'}", field=f"{group}.{name}",
                            hint=f"a returned job's {group} are the ones it was submitted with; to add one, "
                                 f"declare it where the job is built ({group}={{\"{name}\": ...}} or the "
                                 "job YAML) and submit it again")

    @classmethod
    def _of(cls, entries: dict[str, Any]) -> JobIO:
        return cls({k: cls._entry(v) if isinstance(v, str) else v for k, v in entries.items()})

    @staticmethod
    def _entry(uri: str) -> Any:
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validated from the record's ``dict[str, str]`` and serialized as one (its path entries)."""
        return core_schema.no_info_after_validator_function(
            cls._of, handler(dict[str, Any]),
            serialization=core_schema.plain_serializer_function_ser_schema(uris))


class JobInputs(JobIO):
    kind = "input"

    @staticmethod
    def _entry(uri: str) -> JobInput:
        return JobInput(path=uri)


class JobOutputs(JobIO):
    """A returned job's outputs; ``default`` (azure.ai.ml's name for the artifact store) reads
    ``artifacts`` when the job has no output of its own of that name. The keys stay the record's."""

    kind = "output"

    @staticmethod
    def _entry(uri: str) -> JobOutput:
        return JobOutput(path=uri)

    def _key(self, name: Any) -> Any:
        return output_meant(name, self)

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(self._key(name))

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(self._key(name), value)

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(self._key(name), default)


DEFAULT_OUTPUT = "default"  # azure.ai.ml's DEFAULT_ARTIFACT_STORE_OUTPUT_NAME: the job's artifact store


def output_meant(name: Any, outputs: dict[str, Any]) -> Any:
    """The output ``name`` means among ``outputs`` (a job's, its record's): azure.ai.ml's ``default`` is
    ``artifacts``, unless the job has an output of its own named ``default``."""
    if name == DEFAULT_OUTPUT and not dict.__contains__(outputs, DEFAULT_OUTPUT):
        return ARTIFACTS
    return name


def uris(entries: dict[str, Any]) -> dict[str, str]:
    """The record's view of a job's inputs or outputs: name -> URI (literal inputs left out)."""
    return {k: v.path for k, v in entries.items() if isinstance(v, JobInput | JobOutput)}


class Job(JobRecord):
    """What ``ml_client.jobs`` returns: the job's record plus azure.ai.ml's attributes: ``inputs`` and
    ``outputs`` by attribute, ``description``, ``tags``, ``properties``, ``type``, ``command``,
    ``environment`` and ``compute`` as submitted, ``id`` (``azureml://jobs/<name>``), ``creation_context``
    and ``services``/``studio_url`` (the command that shows the job)."""

    inputs: JobInputs = Field(default_factory=JobInputs)
    outputs: JobOutputs = Field(default_factory=JobOutputs)
    _jobs: dict[str, Any] = PrivateAttr(default_factory=lambda: {})  # a pipeline's: set by ml_client.jobs

    @field_validator("extra")
    @classmethod
    def _z_times(cls, extra: dict[str, Any]) -> dict[str, Any]:
        """Status times an older runner stored as ``+00:00`` text read in a new record's ``Z`` form."""
        return z_status_times(extra)

    @model_validator(mode="after")
    def _described(self) -> Job:
        """Each input and output with its settings: the plan's (what the job ran with), else the spec's
        (as written), else the defaults; the literal inputs with their values."""
        plan = self.extra.get("plan")
        refs = [*self.registered_models, *self.registered_data]
        for entries, group in ((self.inputs, "inputs"), (self.outputs, "outputs")):
            planned = {b.get("name"): b for b in (plan or {}).get(group) or () if isinstance(b, dict)} \
                if isinstance(plan, dict) else _step_outputs(self.extra) if group == "outputs" else {}
            written = _mapping(self.spec.get(group))
            for name, entry in list(entries.items()):
                if isinstance(entry, JobInput | JobOutput):
                    entries[name] = _described(entry, name, _mapping(planned.get(name)),
                                               _mapping(written.get(name)), refs)
            if group == "inputs":
                entries.update({name: literal for name, given in written.items()
                                if name not in entries and (literal := _literal(given)) is not None})
        return self

    @property
    def description(self) -> str | None:
        return self.spec.get("description")

    @property
    def jobs(self) -> dict[str, Any]:
        """A pipeline's steps, as azure.ai.ml's ``PipelineJob.jobs``: step name -> its job when this one
        was read (None: the step has no job, not started or skipped); a command job has none."""
        return dict(self._jobs)

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
        """As azure.ai.ml's: name -> a job service entity, each with ``.type`` and ``.endpoint``: the
        services given (``JupyterLabJobService``...: none is started here; one of another type a
        ``JobService``), and ``Studio`` (the command that shows the job) and ``Tracking`` (its MLflow
        folder), ``JobService``s."""
        tracking = f"file://{Path(self.job_dir or '.') / 'mlruns'}"
        given = {name: setting_of("services", entry)
                 for name, entry in _mapping(self.spec.get("services")).items()}
        return {**given, "Studio": JobService(endpoint=self.studio_url, type="Studio"),
                "Tracking": JobService(endpoint=tracking, type="Tracking")}

    # -- azure.ai.ml's Command job settings, as the job was submitted with them (``runner.spec.job_settings``)
    @property
    def limits(self) -> Any:
        """``CommandJobLimits`` (None: none given)."""
        return setting_of("limits", self.spec.get("limits"))

    @property
    def resources(self) -> Any:
        """``JobResourceConfiguration``: the ``resources`` given, ``instance_count`` 1 unless given (a
        pipeline has none: None)."""
        if self.type == "pipeline":
            return None
        return setting_of("resources", {"instance_count": 1, **_mapping(self.spec.get("resources"))})

    @property
    def distribution(self) -> Any:
        """``PyTorchDistribution``, ``MpiDistribution``, ``TensorFlowDistribution``, ``RayDistribution``
        (None: none given; data no entity holds as it is)."""
        return setting_of("distribution", self.spec.get("distribution"))

    @property
    def queue_settings(self) -> Any:
        """``QueueSettings`` (None: none given)."""
        return setting_of("queue_settings", self.spec.get("queue_settings"))

    @property
    def identity(self) -> dict[str, Any] | None:
        """The ``identity`` given, as data (``{"type": "user_identity"}``)."""
        identity = self.spec.get("identity")
        return dict(identity) if isinstance(identity, dict) else None

    @property
    def code(self) -> str | None:
        """The ``code`` as the job was submitted with it."""
        return self.spec.get("code")

    @property
    def environment_variables(self) -> dict[str, str]:
        """As ``runner job show`` shows them (the record's spec): a secret's value is ``***``, kept out of
        the record when the job was submitted (``runner.plan.env_secrets.masked_spec``)."""
        return dict(_mapping(self.spec.get("environment_variables")))

    def __repr__(self) -> str:
        """A summary, as azure.ai.ml's (name, type, status, display name, experiment); the rest are
        attributes (``job.spec``, ``job.outputs``, ``job.extra``...)."""
        return (f"Job(name={self.name!r}, type={self.type!r}, status={self.status.value!r}, "
                f"display_name={self.display_name!r}, experiment_name={self.experiment_name!r})")

    __str__ = __repr__


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _step_outputs(extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A pipeline's outputs as its steps ran them: output -> the step output it is bound to (its spec's
    entry, ``type`` and ``mode``), from the pipeline's plan (``runner.pipelines.record``, its ``extra``'s
    ``pipeline``: ``outputs`` name -> [step, step output], ``steps`` step -> its ``spec``)."""
    plan = _mapping(extra.get("pipeline"))
    steps, found = _mapping(plan.get("steps")), {}
    for name, bound in _mapping(plan.get("outputs")).items():
        if isinstance(bound, list | tuple) and len(bound) == 2:
            step_spec = _mapping(_mapping(steps.get(bound[0])).get("spec"))
            found[name] = _mapping(_mapping(step_spec.get("outputs")).get(bound[1]))
    return found


def _described(entry: JobInput | JobOutput, name: str, planned: dict[str, Any],
               written: dict[str, Any], refs: list[str]) -> JobInput | JobOutput:
    """``entry`` with the type and mode the job ran with (``planned``: its plan's binding) or was given
    (``written``: its spec's entry), and an output's registration (the version it registered, once it
    has: ``refs``, the job's ``azureml:<name>:<version>``)."""
    output = isinstance(entry, JobOutput)
    mode = Mode.UPLOAD if output and name == ARTIFACTS else DEFAULT_MODE[
        Direction.OUTPUT if output else Direction.INPUT]
    fields: dict[str, Any] = {"type": str(planned.get("type") or written.get("type") or entry.type),
                              "mode": str(planned.get("mode") or written.get("mode") or mode),
                              "description": written.get("description")}
    if output:
        registered = _mapping(planned.get("registered_as"))
        for key in ("name", "version"):
            value = written.get(key) or registered.get(key)
            fields[key] = None if value is None else str(value)
        if fields["name"] is not None and fields["version"] is None:
            made = [ref.rsplit(":", 1)[1] for ref in refs if ref.startswith(f"azureml:{fields['name']}:")]
            fields["version"] = made[-1] if made else None
    return replace(entry, **fields)


def _literal(value: Any) -> Any:
    """A literal input's value as given (None: ``value`` is a path input, or a literal with none)."""
    if not isinstance(value, dict):
        return value
    if value.get("type") not in LITERAL_TYPES and ("path" in value or not {"value", "default"} & set(value)):
        return None
    return value["value"] if value.get("value") is not None else value.get("default")


def as_job(record: JobRecord) -> Job:
    return record if isinstance(record, Job) else Job.model_validate(record.model_dump())
