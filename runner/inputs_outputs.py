"""``Input`` and ``Output`` (``azure.ai.ml.Input/Output``) and the small value objects the entities are
built from: keyword-only objects compared by their spec data, and the attribute-readable mapping a job's
inputs and outputs are. Kept apart from ``runner.entities`` so that the pipeline pieces
(``runner.dsl_nodes``) and ``Command`` (which makes a component of itself) need not import each other.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from runner.errors import SpecError
from runner.spec.asset import AssetBase, asset_reference, azure_keywords
from runner.spec.entity import Entity as _Entity  # the entities' base: runner.spec's, as the job settings'
from runner.spec.entity import present as _present
from runner.spec.job_io import LITERAL_TYPES, AssetInput, LiteralInput, OutputSpec
from runner.spec.validation import did_you_mean
from runner.workspace.environment_record import EnvironmentRecord

__all__ = ["Input", "Output"]

log = logging.getLogger(__name__)

# the keywords of azure.ai.ml's Input and Output (the ones after ``description`` only in its **kwargs)
_INPUT_KEYWORDS = ("type", "path", "mode", "path_on_compute", "default", "optional", "min", "max", "enum",
                   "description", "datastore", "intellectual_property")
_OUTPUT_KEYWORDS = ("type", "path", "mode", "description", "name", "version", "path_on_compute",
                    "early_available", "is_control", "intellectual_property")
# ... that mean nothing here: accepted and ignored (a debug log), so ported scripts keep working
_AZURE_ONLY = ("intellectual_property",)


def _known(entity: str, given: dict[str, Any], known: tuple[str, ...], extra: tuple[str, ...] = ()
           ) -> dict[str, Any]:
    """``given`` (``<entity>()``'s further keywords) checked: a misspelling is one ``SpecError`` naming the
    close keyword (``azure_keywords``); azure.ai.ml's ``_AZURE_ONLY`` ones are dropped, with a debug log;
    the rest (``extra``: spec fields ``known`` does not list) is returned."""
    azure_keywords(entity, given, (*known, *extra), listed=known)
    dropped = sorted(k for k in given if k in _AZURE_ONLY)
    if dropped:
        log.debug("%s(): %s ignored (azure.ai.ml keywords with no local meaning)", entity, ", ".join(dropped))
    return {k: v for k, v in given.items() if k not in _AZURE_ONLY}


def _plain(value: Any) -> Any:
    """Entities and SDK-like objects (an azure.ai.ml distribution, a PathLike) -> plain spec data."""
    if isinstance(value, _Entity):
        return value._to_data()
    if isinstance(value, EnvironmentRecord):  # ml_client.environments.get(...): its id, as azure.ai.ml's
        return value.id
    if isinstance(value, Mapping):
        return {k: ({} if v is None and isinstance(value, _Fields) else _plain(v)) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "_to_dict"):  # e.g. an azure.ai.ml distribution/identity object
        return value._to_dict()
    if hasattr(value, "__dict__") and not isinstance(value, str | int | float | bool):
        return {k: v for k, v in vars(value).items() if not k.startswith("_") and v is not None}
    return value


class Input(_Entity):
    """A job input: a model/data path (``type`` + ``path`` + ``mode``) or a literal (``type`` +
    ``default``), like ``azure.ai.ml.Input``. azure.ai.ml's ``intellectual_property`` is accepted and
    ignored; a misspelled keyword is one ``SpecError`` naming it and the close one."""

    def __init__(self, *, type: str = "uri_folder", path: str | None = None, mode: str | None = None,
                 path_on_compute: str | None = None, default: Any = None, optional: bool | None = None,
                 min: int | float | None = None, max: int | float | None = None, enum: Any = None,
                 description: str | None = None, datastore: str | None = None, **kwargs: Any) -> None:
        self.type = str(type)
        # a model or data asset object (``path=model``): its id, never its YAML text
        self.path = asset_reference(path, field="path") if isinstance(path, AssetBase) else \
            None if path is None else str(path)
        self.mode = None if mode is None else str(mode)
        self.path_on_compute = path_on_compute
        self.default = default
        self.optional = optional
        self.min, self.max, self.enum = min, max, enum
        self.description = description
        self.datastore = datastore
        # ``value``: the spec's own field of a literal (``{value: 3}``), taken as before
        self._extra = _known("Input", kwargs, _INPUT_KEYWORDS, ("value",))

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
    """A job output, like ``azure.ai.ml.Output``; ``name``+``version`` registers it as a model.

    azure.ai.ml's ``early_available``, ``is_control`` (pipeline orchestration hints) and
    ``intellectual_property`` are accepted and ignored (a debug log); ``path_on_compute`` too, with a
    warning: the job writes the output where ``${{outputs.<name>}}`` says, as an input's ``path_on_compute``
    is ignored. A misspelled keyword is one ``SpecError`` naming it and the close one."""

    def __init__(self, *, type: str = "uri_folder", path: str | None = None, mode: str | None = None,
                 description: str | None = None, name: str | None = None, version: str | None = None,
                 path_on_compute: str | None = None, early_available: bool | None = None,
                 is_control: bool | None = None, **kwargs: Any) -> None:
        _known("Output", kwargs, _OUTPUT_KEYWORDS)
        self.type = str(type)
        self.path = None if path is None else str(path)
        self.mode = None if mode is None else str(mode)
        self.description = description
        self.name = name
        self.version = None if version is None else str(version)
        self.path_on_compute, self.early_available = path_on_compute, early_available  # as azure's reads
        hints = [k for k, v in (("early_available", early_available), ("is_control", is_control))
                 if v is not None]
        if hints:  # pipeline orchestration hints: every step here starts once its inputs are complete
            log.debug("Output(): %s ignored (azure.ai.ml keywords with no local meaning)", ", ".join(hints))
        if path_on_compute is not None:
            log.warning("Output(path_on_compute=%r) is ignored: the job writes the output where "
                        "${{outputs.<name>}} says", path_on_compute)

    def _to_data(self) -> dict[str, Any]:
        return {"type": self.type, **_present(path=self.path, mode=self.mode, name=self.name,
                                              version=self.version, description=self.description)}

    @classmethod
    def _from_spec(cls, spec: OutputSpec) -> Output:
        return cls(type=spec.type.value, path=spec.path, mode=spec.mode.value if spec.mode else None,
                   description=spec.description, name=spec.name, version=spec.version)


class _Fields(dict[str, Any]):
    """A job's inputs or outputs: a dict whose entries read as attributes too (``job.inputs.data``), as
    azure.ai.ml's do. An attribute set is one of its entries (``job.outputs.model = Output(...)``); one it
    does not have is refused (``job["new"] = ...`` adds one)."""

    def __init__(self, entries: Mapping[str, Any] | None = None, kind: str | None = None) -> None:
        super().__init__(entries or {})
        object.__setattr__(self, "_kind", kind)  # "input", "output": the word the errors use

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self[item]
        except KeyError:
            raise AttributeError(f"no entry named '{item}' (there are: {', '.join(self) or 'none'})") \
                from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            object.__setattr__(self, key, value)
        elif key not in self:
            raise _undeclared(key, self, self.__dict__.get("_kind"))
        else:
            self[key] = value


def _undeclared(key: str, fields: Mapping[str, Any], kind: str | None) -> SpecError:
    """The error for ``job.<group>.<key> = ...`` when the job has no such input (output); ``kind`` None:
    told by the entries (a pipeline job's ``runner.dsl`` views)."""
    if kind is None:
        kind = "output" if any(isinstance(v, Output) for v in fields.values()) else "input"
    group = f"{kind}s"
    return SpecError(f"the job has no {kind} '{key}'{did_you_mean(key, fields)}; its {group}: "
                     f"{', '.join(fields) or 'none'}", field=f"{group}.{key}",
                     hint=f"set one of those, or declare '{key}' where the job is built "
                          f"({group}={{\"{key}\": ...}}), as in azure.ai.ml")
