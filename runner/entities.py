"""Entities shaped like ``azure.ai.ml.entities`` (and ``azure.ai.ml.Input/Output``).

    from runner import Input, Output, command
    from runner.entities import Model, Data, Command, Environment, BuildContext

``Command`` is a checked command job (from ``command(...)`` or ``load_job(...)``); it wraps a
``runner.spec.job.CommandJobSpec``. A job built in Python equals the same job loaded from YAML, and
``job.dump(path)`` writes YAML that loads back equal.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.spec.data import Data
from runner.spec.job import CommandJobSpec, InlineEnvironment
from runner.spec.job_io import LITERAL_TYPES, AssetInput, LiteralInput, OutputSpec
from runner.spec.model import Model
from runner.spec.names import check_job_name
from runner.spec.yamlio import dump_yaml

if TYPE_CHECKING:
    from runner.jobs.operations import JobService

__all__ = ["BuildContext", "Command", "Data", "Environment", "Input", "Model", "Output"]


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
                       description=spec.description)
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


class Command:
    """A checked command job. Read fields as attributes (``job.command``, ``job.inputs``)."""

    def __init__(self, spec: CommandJobSpec) -> None:
        self._spec = spec

    @property
    def spec(self) -> CommandJobSpec:
        return self._spec

    @property
    def name(self) -> str | None:
        return self._spec.name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None:
            check_job_name(value, "name")
        self._spec.name = value

    @property
    def inputs(self) -> dict[str, Any]:
        return {k: Input._from_spec(v) for k, v in self._spec.inputs.items()}

    @property
    def outputs(self) -> dict[str, Output]:
        return {k: Output._from_spec(v) for k, v in self._spec.outputs.items()}

    @property
    def environment(self) -> str | Environment:
        env = self._spec.environment
        return env if isinstance(env, str) else Environment._from_spec(env)

    @property
    def services(self) -> dict[str, JobService]:
        from runner.jobs.operations import JobService  # the job lifecycle: not imported by ``import runner``

        return {"Studio": JobService(f"runner job show --name {self.name}")} if self.name else {}

    @property
    def warnings(self) -> list[str]:
        return self._spec.warnings

    @property
    def base_dir(self) -> Path:
        return self._spec.base_dir

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        if item in CommandJobSpec.model_fields:
            return getattr(self._spec, item)
        raise AttributeError(f"'Command' has no attribute '{item}'")

    def to_dict(self) -> dict[str, Any]:
        """The job as YAML-ready data (what ``dump`` writes)."""
        return self._spec.to_yaml_dict()

    def dump(self, dest: str | Path | io.TextIOBase) -> None:
        """Write the job as YAML (``az ml job create -f`` accepts it; ``load_job`` loads it back equal)."""
        dump_yaml(self.to_dict(), dest)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Command):
            return NotImplemented
        return self._spec == other._spec

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Command(name={self.name!r}, command={self._spec.command!r})"

    def __str__(self) -> str:
        out = io.StringIO()
        self.dump(out)
        return out.getvalue()
