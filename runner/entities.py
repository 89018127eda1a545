"""Entities shaped like ``azure.ai.ml.entities`` (and ``azure.ai.ml.Input/Output``).

    from runner import Input, Output, command
    from runner.entities import Model, Data, Command, Environment, BuildContext

``Command`` is a checked command job (from ``command(...)`` or ``load_job(...)``); it wraps a
``runner.spec.job.CommandJobSpec``. A job built in Python equals the same job loaded from YAML, and
``job.dump(path)`` writes YAML that loads back equal.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import SpecError
from runner.spec.data import Data
from runner.spec.job import CommandJobSpec, InlineEnvironment
from runner.spec.job_io import LITERAL_TYPES, AssetInput, LiteralInput, OutputSpec
from runner.spec.load import spec_with
from runner.spec.model import Model
from runner.spec.names import check_job_name
from runner.spec.validation import did_you_mean
from runner.spec.yamlio import dump_yaml

if TYPE_CHECKING:
    from runner.jobs.job import JobService

__all__ = ["BuildContext", "Command", "Data", "Environment", "Input", "Model", "Output"]


def _plain(value: Any) -> Any:
    """Entities and SDK-like objects (an azure.ai.ml distribution, a PathLike) -> plain spec data."""
    if isinstance(value, _Entity):
        return value._to_data()
    if isinstance(value, Mapping):
        return {k: ({} if v is None and isinstance(value, _Fields) else _plain(v)) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "_to_dict"):  # e.g. an azure.ai.ml distribution/identity object
        return value._to_dict()
    if hasattr(value, "__dict__") and not isinstance(value, str | int | float | bool):
        return {k: v for k, v in vars(value).items() if not k.startswith("_") and v is not None}
    return value


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class _Entity:
    """Keyword-only value objects, compared by their spec data."""

    def _to_data(self) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self._to_data() == other._to_data())  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        data = self._to_data()
        fields = ", ".join(f"{k}={v!r}" for k, v in data.items()) if isinstance(data, dict) else repr(data)
        return f"{type(self).__name__}({fields})"


class Input(_Entity):
    """A job input: a model/data path (``type`` + ``path`` + ``mode``) or a literal (``type`` +
    ``default``), like ``azure.ai.ml.Input``."""

    def __init__(self, *, type: str = "uri_folder", path: str | None = None, mode: str | None = None,
                 path_on_compute: str | None = None, default: Any = None, optional: bool | None = None,
                 min: int | float | None = None, max: int | float | None = None, enum: Any = None,
                 description: str | None = None, datastore: str | None = None, **kwargs: Any) -> None:
        self.type = str(type)
        self.path = None if path is None else str(path)
        self.mode = None if mode is None else str(mode)
        self.path_on_compute = path_on_compute
        self.default = default
        self.optional = optional
        self.min, self.max, self.enum = min, max, enum
        self.description = description
        self.datastore = datastore
        self._extra = kwargs

    def _to_data(self) -> dict[str, Any]:
        common = _present(optional=self.optional or None, description=self.description, **self._extra)
        if self.type in LITERAL_TYPES:
            return {"type": self.type, **_present(default=self.default, min=self.min, max=self.max,
                                                  enum=self.enum), **common}
        return {"type": self.type, **_present(path=self.path, mode=self.mode, datastore=self.datastore,
                                              path_on_compute=self.path_on_compute), **common}

    @classmethod
    def _from_spec(cls, spec: AssetInput | LiteralInput) -> Input | Any:
        if isinstance(spec, LiteralInput):
            if spec.type is None and not spec.optional and spec.default is None:
                return spec.value  # a plain literal stays a plain value, as in Azure
            return cls(type=spec.type or "string", default=spec.effective, optional=spec.optional or None,
                       description=spec.description, min=spec.min, max=spec.max, enum=spec.enum)
        return cls(type=spec.type.value, path=spec.path, mode=spec.mode.value if spec.mode else None,
                   optional=spec.optional or None, description=spec.description,
                   datastore=spec.datastore, path_on_compute=spec.path_on_compute)


class Output(_Entity):
    """A job output, like ``azure.ai.ml.Output``; ``name``+``version`` registers it as a model."""

    def __init__(self, *, type: str = "uri_folder", path: str | None = None, mode: str | None = None,
                 description: str | None = None, name: str | None = None, version: str | None = None,
                 **kwargs: Any) -> None:
        self.type = str(type)
        self.path = None if path is None else str(path)
        self.mode = None if mode is None else str(mode)
        self.description = description
        self.name = name
        self.version = None if version is None else str(version)
        self._extra = kwargs

    def _to_data(self) -> dict[str, Any]:
        return {"type": self.type, **_present(path=self.path, mode=self.mode, name=self.name,
                                              version=self.version, description=self.description,
                                              **self._extra)}

    @classmethod
    def _from_spec(cls, spec: OutputSpec) -> Output:
        return cls(type=spec.type.value, path=spec.path, mode=spec.mode.value if spec.mode else None,
                   description=spec.description, name=spec.name, version=spec.version)


class BuildContext(_Entity):
    """``Environment(build=BuildContext(path="docker-context"))``."""

    def __init__(self, *, path: str | Path, dockerfile_path: str = "Dockerfile") -> None:
        self.path = str(path)
        self.dockerfile_path = dockerfile_path

    def _to_data(self) -> dict[str, Any]:
        return {"path": self.path, "dockerfile_path": self.dockerfile_path}


class Environment(_Entity):
    """An inline environment: a Docker ``image``, or a ``build`` context (plus an optional conda file)."""

    def __init__(self, *, name: str | None = None, version: str | None = None, image: str | None = None,
                 build: BuildContext | None = None, conda_file: str | dict[str, Any] | None = None,
                 description: str | None = None, tags: dict[str, str] | None = None,
                 os_type: str | None = None, **kwargs: Any) -> None:
        self.name, self.version, self.image, self.build = name, version, image, build
        self.conda_file, self.description, self.tags, self.os_type = conda_file, description, tags, os_type
        self._extra = kwargs

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


class _Fields(dict[str, Any]):
    """A job's inputs or outputs: a dict whose entries read as attributes too (``job.inputs.data``), as
    azure.ai.ml's do."""

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self[item]
        except KeyError:
            raise AttributeError(f"no entry named '{item}' (there are: {', '.join(self) or 'none'})") \
                from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


# the Command fields written through ``job.<field> = value`` (``name`` has its own setter)
_SETTABLE = tuple(f for f in CommandJobSpec.model_fields if f not in ("schema_", "type", "name"))
_VIEWS = ("inputs", "outputs", "environment")  # read as entities that can be edited in place


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
                          lambda: _Fields({k: Input._from_spec(v) for k, v in self._spec.inputs.items()}))

    @inputs.setter
    def inputs(self, value: Mapping[str, Any]) -> None:
        self._set("inputs", value)

    @property
    def outputs(self) -> _Fields:
        return self._view("outputs",  # type: ignore[no-any-return]
                          lambda: _Fields({k: Output._from_spec(v) for k, v in self._spec.outputs.items()}))

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
    def services(self) -> dict[str, JobService]:
        from runner.jobs.job import JobService  # the job lifecycle: not imported by ``import runner``

        return {"Studio": JobService(f"runner job show --name {self.name}")} if self.name else {}

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
        raise AttributeError(f"'Command' has no attribute '{item}'")

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
