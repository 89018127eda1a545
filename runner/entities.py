"""Entities shaped like ``azure.ai.ml.entities`` (and ``azure.ai.ml.Input/Output``).

    from runner import Input, Output, command
    from runner.entities import Model, Data, Command, Environment, BuildContext
    from runner.entities import AmlCompute, UserIdentityConfiguration, AzureBlobDatastore  # and the like

``AmlCompute`` / ``ComputeInstance`` (``runner.entities_compute``: nothing is created here), the job
identities and datastore credentials (``runner.entities_credentials``) and the Azure storage datastores
(``runner.entities_datastores``) are azure.ai.ml's names, re-exported here.

``Command`` is a checked command job (from ``command(...)`` or ``load_job(...)``); it wraps a
``runner.spec.job.CommandJobSpec``. A job built in Python equals the same job loaded from YAML, and
``job.dump(path)`` writes YAML that loads back equal. As in azure.ai.ml, a ``Command`` is also a component:
``job.component`` is its ``CommandComponent`` (to register), and ``job(text=...)`` inside a ``@dsl.pipeline``
makes a step of it; an input without a path is then a component input (submitted alone, it is an error).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from runner.components import CommandComponent
from runner.entities_compute import AmlCompute, ComputeInstance
from runner.entities_credentials import (
    AccountKeyConfiguration,
    AmlTokenConfiguration,
    ManagedIdentityConfiguration,
    SasTokenConfiguration,
    ServicePrincipalConfiguration,
    UserIdentityConfiguration,
)
from runner.entities_datastores import AzureBlobDatastore, AzureDataLakeGen2Datastore
from runner.errors import SpecError
from runner.inputs_outputs import Input, Output, _Entity, _Fields, _plain, _present
from runner.spec.asset import AZURE_ASSET_KEYWORDS, azure_keywords
from runner.spec.component import component_from_job
from runner.spec.data import Data
from runner.spec.job import CommandJobSpec, InlineEnvironment, ResourcesSpec
from runner.spec.job_io import AssetInput
from runner.spec.job_settings import (
    CommandJobLimits,
    JobResourceConfiguration,
    JobService,
    JupyterLabJobService,
    MpiDistribution,
    PyTorchDistribution,
    QueueSettings,
    RayDistribution,
    SshJobService,
    TensorBoardJobService,
    TensorFlowDistribution,
    VsCodeJobService,
    setting_of,
)
from runner.spec.load import spec_with
from runner.spec.model import Model
from runner.spec.names import check_job_name
from runner.spec.validation import did_you_mean
from runner.spec.yamlio import dump_yaml
from runner.sweep import sweep_not_supported
from runner.unsupported import not_supported

if TYPE_CHECKING:
    from runner.dsl_nodes import CommandNode

__all__ = ["AccountKeyConfiguration", "AmlCompute", "AmlTokenConfiguration", "AzureBlobDatastore",
           "AzureDataLakeGen2Datastore", "BuildContext", "Command", "CommandJobLimits", "ComputeInstance",
           "Data", "Environment", "Input", "JobResourceConfiguration", "JobService", "JupyterLabJobService",
           "ManagedIdentityConfiguration", "Model", "MpiDistribution", "Output", "PyTorchDistribution",
           "QueueSettings", "RayDistribution", "SasTokenConfiguration", "ServicePrincipalConfiguration",
           "SshJobService", "TensorBoardJobService", "TensorFlowDistribution", "UserIdentityConfiguration",
           "VsCodeJobService"]


class BuildContext(_Entity):
    """``Environment(build=BuildContext(path="docker-context"))``."""

    def __init__(self, *, path: str | Path, dockerfile_path: str = "Dockerfile", **kwargs: Any) -> None:
        azure_keywords("BuildContext", kwargs, ("path", "dockerfile_path"))  # a misspelling: one error
        self.path = str(path)
        self.dockerfile_path = dockerfile_path

    def _to_data(self) -> dict[str, Any]:
        return {"path": self.path, "dockerfile_path": self.dockerfile_path}


_ENVIRONMENT_KEYWORDS = ("name", "version", "image", "build", "conda_file", "description", "tags", "os_type")
# azure.ai.ml's Environment keywords with no local meaning: accepted and ignored
_AZURE_ENVIRONMENT_ONLY = (*AZURE_ASSET_KEYWORDS, "properties", "datastore", "intellectual_property")


class Environment(_Entity):
    """An inline environment: a Docker ``image``, or a ``build`` context (plus an optional conda file).
    azure.ai.ml's other keywords are accepted (``inference_config`` kept, as the YAML field; the ones with
    no local meaning, such as ``properties`` and ``datastore``, ignored); a misspelled one is a
    ``SpecError``."""

    def __init__(self, *, name: str | None = None, version: str | None = None, image: str | None = None,
                 build: BuildContext | None = None, conda_file: str | dict[str, Any] | None = None,
                 description: str | None = None, tags: dict[str, str] | None = None,
                 os_type: str | None = None, **kwargs: Any) -> None:
        self.name, self.version, self.image, self.build = name, version, image, build
        self.conda_file, self.description, self.tags, self.os_type = conda_file, description, tags, os_type
        self._extra = azure_keywords("Environment", kwargs, (*_ENVIRONMENT_KEYWORDS, "inference_config"),
                                     _AZURE_ENVIRONMENT_ONLY)

    def _to_data(self) -> dict[str, Any]:
        build = self.build._to_data() if isinstance(self.build, BuildContext) else self.build
        return _present(image=self.image, build=build, conda_file=self.conda_file, name=self.name,
                        version=self.version, description=self.description, tags=self.tags,
                        os_type=self.os_type, **self._extra)

    @classmethod
    def _from_spec(cls, spec: InlineEnvironment) -> Environment:
        build = BuildContext(**spec.build.model_dump()) if spec.build else None
        return cls(name=spec.name, version=spec.version, image=spec.image, build=build,
                   conda_file=spec.conda_file, description=spec.description, tags=spec.tags or None,
                   os_type=spec.os_type)


# the Command fields written through ``job.<field> = value`` (``name`` has its own setter)
_SETTABLE = tuple(f for f in CommandJobSpec.model_fields if f not in ("schema_", "type", "name"))
_RESOURCES = tuple(ResourcesSpec.model_fields)  # what set_resources may set
_VIEWS = ("inputs", "outputs", "environment", "limits", "resources")  # entities edited in place
# the job settings a step made by calling the job keeps (as azure.ai.ml's ``Command.__call__`` does)
_STEP_SETTINGS = ("compute", "display_name", "tags", "limits", "resources")


class Command:
    """A checked command job. Read fields as attributes (``job.command``, ``job.inputs``); as in
    azure.ai.ml, settings written after it was built (``job.display_name = ...``, ``job.tags = {...}``,
    ``job.inputs["data"].path = ...``, ``job.outputs.model.mode = ...``) reach the job that is submitted
    (each is checked; a bad value raises one ``SpecError`` naming the field)."""

    def __init__(self, spec: CommandJobSpec) -> None:
        self.__dict__["_spec"] = spec
        self.__dict__["_views"] = {}  # field -> (the entity handed out, its data when handed out/synced)

    @property
    def spec(self) -> CommandJobSpec:
        """The job's spec, with the edits made to its inputs, outputs and environment entities."""
        changes = {}
        for field, (view, seen) in self._views.items():
            now = _plain(view)
            if now != seen:
                changes[field] = now
                self._views[field] = (view, now)
        if changes:
            self.__dict__["_spec"] = spec_with(self._spec, changes)
        return self._spec  # type: ignore[no-any-return]

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_") or isinstance(getattr(type(self), key, None), property):
            super().__setattr__(key, value)  # a property's setter (name, inputs, ...), or a private field
            return
        if key not in _SETTABLE:
            raise SpecError(f"a command job has no setting '{key}'{did_you_mean(key, _SETTABLE)}", field=key,
                            hint="settings: name, " + ", ".join(_SETTABLE))
        self._set(key, value)

    def _set(self, key: str, value: Any) -> None:
        spec = self.spec  # pending edits first
        self._views.pop(key, None)
        self.__dict__["_spec"] = spec_with(spec, {key: _plain(value)})

    def _view(self, field: str, make: Any) -> Any:
        if field not in self._views:
            view = make()
            self._views[field] = (view, _plain(view))
        return self._views[field][0]

    @property
    def name(self) -> str | None:
        return self._spec.name  # type: ignore[no-any-return]

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None:
            check_job_name(value, "name")
        self._spec.name = value

    @property
    def inputs(self) -> _Fields:
        return self._view("inputs",  # type: ignore[no-any-return]
                          lambda: _Fields({k: Input._from_spec(v) for k, v in self._spec.inputs.items()},
                                                  "input"))

    @inputs.setter
    def inputs(self, value: Mapping[str, Any]) -> None:
        self._set("inputs", value)

    @property
    def outputs(self) -> _Fields:
        return self._view("outputs",  # type: ignore[no-any-return]
                          lambda: _Fields({k: Output._from_spec(v) for k, v in self._spec.outputs.items()},
                                                  "output"))

    @outputs.setter
    def outputs(self, value: Mapping[str, Any]) -> None:
        self._set("outputs", value)

    @property
    def environment(self) -> str | Environment:
        env = self._spec.environment
        if isinstance(env, str):
            return env
        return self._view("environment", lambda: Environment._from_spec(env))  # type: ignore[no-any-return]

    @environment.setter
    def environment(self, value: str | Environment) -> None:
        self._set("environment", value)

    @property
    def limits(self) -> CommandJobLimits:
        """azure.ai.ml's ``CommandJobLimits`` (none given: empty, not None as there, so that its fields can
        be set); ``job.limits.timeout = 600`` changes the job, as setting a field does (checked when the
        job is next read or submitted)."""
        return self._view("limits", lambda: setting_of(  # type: ignore[no-any-return]
            "limits", self._spec.to_yaml_dict().get("limits") or {}))

    @limits.setter
    def limits(self, value: CommandJobLimits | Mapping[str, Any] | None) -> None:
        self._set("limits", value)

    @property
    def resources(self) -> JobResourceConfiguration:
        """azure.ai.ml's ``JobResourceConfiguration`` (``instance_count`` 1 unless given; none given: not
        None as there); ``job.resources.shm_size = "2g"`` changes the job, as setting a field does."""
        return self._view("resources", lambda: setting_of(  # type: ignore[no-any-return]
            "resources", {"instance_count": 1, **(self._spec.to_yaml_dict().get("resources") or {})}))

    @resources.setter
    def resources(self, value: JobResourceConfiguration | Mapping[str, Any] | None) -> None:
        self._set("resources", value)

    @property
    def services(self) -> dict[str, Any]:
        """The ``services`` given (``JupyterLabJobService``...: accepted, none is started here), and, once
        the job has a name, ``Studio``: the command that shows it."""
        given = {name: setting_of("services", entry) for name, entry in (self._spec.services or {}).items()}
        return {**given, "Studio": JobService(
            endpoint=f"runner job show --name {self.name}", type="Studio")} if self.name else given

    @property
    def warnings(self) -> list[str]:
        return self.spec.warnings

    @property
    def base_dir(self) -> Path:
        return self._spec.base_dir  # type: ignore[no-any-return]

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        if item in CommandJobSpec.model_fields:
            return getattr(self._spec, item)
        known = [*CommandJobSpec.model_fields, *(a for a in dir(type(self)) if not a.startswith("_"))]
        raise AttributeError(f"'Command' has no attribute '{item}'{did_you_mean(item, known)}")

    # -- azure.ai.ml's setters: each writes one field as its YAML has it (checked the same way) ----------
    def set_limits(self, *, timeout: int | None = None, **kwargs: Any) -> None:
        """``limits.timeout`` (seconds; None: none), as azure.ai.ml's ``Command.set_limits``."""
        azure_keywords("set_limits", kwargs, ("timeout",))
        self._set("limits", _present(**{**self.spec.to_yaml_dict().get("limits", {}), "timeout": timeout}))

    def set_resources(self, *, instance_type: str | list[str] | None = None,
                      instance_count: int | None = None, locations: list[str] | None = None,
                      properties: dict[str, Any] | None = None, docker_args: str | list[str] | None = None,
                      shm_size: str | None = None, **kwargs: Any) -> None:
        """The given ``resources`` fields, the others kept, as azure.ai.ml's ``Command.set_resources``
        (also ``gpu_count``, runner's); ``instance_type``, ``locations`` and ``properties`` are accepted and
        ignored (a warning), as in the YAML."""
        given = {"instance_type": instance_type, "instance_count": instance_count, "locations": locations,
                 "properties": properties, "docker_args": docker_args, "shm_size": shm_size,
                 **azure_keywords("set_resources", kwargs, _RESOURCES)}
        resources = self.spec.to_yaml_dict().get("resources", {})
        self._set("resources", {**resources, **{k: v for k, v in given.items() if v is not None}})

    def set_queue_settings(self, *, job_tier: str | None = None, priority: str | None = None,
                           **kwargs: Any) -> None:
        """``queue_settings`` (``job_tier``, ``priority``), as azure.ai.ml's ``Command.set_queue_settings``;
        accepted and ignored (a warning: there is no queue locally), as in the YAML."""
        azure_keywords("set_queue_settings", kwargs, ("job_tier", "priority"))
        self._set("queue_settings", _present(job_tier=job_tier, priority=priority) or None)

    def sweep(self, *args: Any, **kwargs: Any) -> NoReturn:
        """azure.ai.ml's ``Command.sweep``: sweep jobs do not run here (``runner.sweep``'s one error)."""
        raise sweep_not_supported("job.sweep(...)")

    @property
    def component(self) -> CommandComponent:
        """The job as a component (azure.ai.ml's ``job.component``), to register with
        ``ml_client.components.create_or_update``; see ``runner.spec.component.component_from_job``."""
        return CommandComponent(component_from_job(self.spec))

    def __call__(self, *args: Any, **inputs: Any) -> CommandNode:
        """A ``@dsl.pipeline`` step running this job's component, as azure.ai.ml's: the job's input paths,
        output settings, compute, tags, limits and resources carry over; ``inputs`` replace its inputs."""
        spec = self.spec
        built = {name: Input._from_spec(value) for name, value in spec.inputs.items()
                 if isinstance(value, AssetInput) and value.path is not None}
        node = self.component(*args, **{**built, **inputs})
        for name, output in spec.outputs.items():
            port = node.outputs[name]
            port.path, port.name, port.version = output.path, output.name, output.version
        data = spec.to_yaml_dict()
        for field in _STEP_SETTINGS:
            if field in data:
                setattr(node, field, data[field])
        return node

    def to_dict(self) -> dict[str, Any]:
        """The job as YAML-ready data (what ``dump`` writes)."""
        return self.spec.to_yaml_dict()

    def dump(self, dest: str | Path | io.TextIOBase) -> None:
        """Write the job as YAML (``az ml job create -f`` accepts it; ``load_job`` loads it back equal)."""
        dump_yaml(self.to_dict(), dest)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Command):
            return NotImplemented
        return self.spec == other.spec

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Command(name={self.name!r}, command={self._spec.command!r})"

    def __str__(self) -> str:
        out = io.StringIO()
        self.dump(out)
        return out.getvalue()


def __getattr__(name: str) -> Any:
    """``from runner.entities import ManagedOnlineEndpoint`` (azure.ai.ml's names for what runner does not do:
    endpoints, schedules, Spark...): one ``SpecError`` saying so (``runner.unsupported``)."""
    refused = not_supported(f"runner.entities.{name} (azure.ai.ml.entities')", name)
    if refused is not None:
        raise refused
    raise AttributeError(f"module 'runner.entities' has no attribute '{name}'")
