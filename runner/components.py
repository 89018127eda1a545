"""Command components in Python, shaped like ``azure.ai.ml``: ``load_component`` and ``CommandComponent``
(``azure.ai.ml.entities.CommandComponent``), and ``ml_client.components``.

    from runner import load_component
    train = load_component(source="train.yml")
    ml_client.components.create_or_update(train)            # registered: azureml:train:<version>
    train = ml_client.components.get("train", version="1")

A component is called like a function inside a ``@pipeline`` (``runner.dsl``): ``train(data=...)``
makes a step; its outputs (``step.outputs.model``) are what other steps take as inputs.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.dsl_nodes import CommandNode
from runner.errors import SpecError
from runner.file_urls import file_path
from runner.not_found import raises_not_found
from runner.plan.env_secrets import (
    DOCKER_FIELD,
    MASK,
    component_secret_warning,
    docker_secrets,
    refuse_shown_mask,
    secret_values,
    shown_mask_warnings,
)
from runner.spec.component import CommandComponentSpec, component_from_data, load_component_spec
from runner.spec.load import params_override_sets
from runner.spec.names import LATEST_LABEL, check_label
from runner.workspace.components import ComponentRecord, ComponentStore, yaml_spec

__all__ = ["CommandComponent", "ComponentOperations", "load_component"]

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"^azureml:(?P<name>[^:@/]+)(?::(?P<version>[^:@/]+)|@(?P<label>[^:@/]+))?$")


class CommandComponent:
    """A command component (from a file, registered, or built in Python). Read its fields as attributes
    (``train.inputs``, ``train.command``); call it to make a pipeline step."""

    def __init__(self, spec: CommandComponentSpec, *, source: str | None = None) -> None:
        self._spec = spec
        self._source = source  # how a step names it: a file, or azureml:<name>:<version>

    @property
    def spec(self) -> CommandComponentSpec:
        return self._spec

    @property
    def reference(self) -> str | dict[str, Any]:
        """What a pipeline step's ``component:`` holds for this component."""
        if self._source is not None:
            return self._source
        data = self._spec.to_yaml_dict()
        if self._spec.code:
            data["code"] = _code_path(self._spec.code, self._spec.base_dir)
        return data

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        if item in CommandComponentSpec.model_fields:
            return getattr(self._spec, item)
        raise AttributeError(f"'CommandComponent' has no attribute '{item}'")

    @property
    def id(self) -> str | None:
        return self._spec.reference if self._spec.name and self._spec.version else None

    def __call__(self, *args: Any, **inputs: Any) -> CommandNode:
        if args:
            raise SpecError("a component takes its inputs by name", hint="write train(data=..., lr=...)")
        return CommandNode(self, inputs)

    def __repr__(self) -> str:
        return f"CommandComponent(name={self._spec.name!r}, version={self._spec.version!r})"


def _code_path(code: str, base_dir: Path) -> str:
    """A component's ``code`` as a step takes it: a local folder absolute from the component's folder, its
    ``file:`` forms read as a job's (``runner.file_urls``); a URL, an ``azureml:`` reference, or a file URL
    naming another host (the pipeline's step check refuses it, naming the step) as written."""
    if code.startswith(("azureml:", "http://", "https://")):
        return code
    try:
        local = file_path(code, "code")
    except SpecError:
        return code
    return str((base_dir / local).resolve())


def load_component(source: str | os.PathLike[str] | None = None, *, relative_origin: str | None = None,
                   params_override: list[dict[str, Any]] | None = None, **kwargs: Any) -> CommandComponent:
    """Load a command component YAML, like ``azure.ai.ml.load_component`` (``params_override``:
    ``[{"version": "2"}]``); without a source, ``client=ml_client, name=..., version=...`` is the registered
    one, ``client.components.get(name, version)``, as there."""
    del relative_origin
    client, name, version = kwargs.get("client"), kwargs.get("name"), kwargs.get("version")
    if not source and client is not None and name and version:
        return client.components.get(name, version)  # type: ignore[no-any-return]
    if source is None:
        raise SpecError("load_component needs a source, or client, name and version",
                        hint="load_component(source='component.yml'), or load_component(client=ml_client, "
                             "name='train', version='1') for a registered one")
    _refuse_reference(str(source), "load_component reads a component's YAML file")
    path = Path(source).resolve()
    spec = load_component_spec(path, params_override_sets(params_override), python=True)
    return CommandComponent(spec, source=str(path))


@raises_not_found("get", "record", "archive", "restore")
class ComponentOperations:
    """``ml_client.components``."""

    def __init__(self, store: ComponentStore) -> None:
        self._store = store

    def create_or_update(self, component: CommandComponent | CommandComponentSpec, *,
                         version: str | None = None, **_: Any) -> CommandComponent:
        """Register a version (the same content again returns it; other content under a used version is
        refused). Without a version, an unchanged component (the same spec and code as the newest
        version) returns that version, as ``runner component create`` does."""
        spec = component.spec if isinstance(component, CommandComponent) else component
        if version is not None:
            spec = spec.model_copy(update={"version": str(version)})
            spec._base_dir, spec._doc = component.spec.base_dir if isinstance(
                component, CommandComponent) else component.base_dir, None
        return self._entity(self.register(spec))

    def get(self, name: str, version: str | int | None = None, label: str | None = None) -> CommandComponent:
        """A version, or the newest (``label="latest"``, or neither given: azure-ai-ml's default); both is
        a ``SpecError``, as in azure-ai-ml ("Cannot specify both version and label")."""
        _refuse_reference(name, "ml_client.components.get takes a component's name")
        given = None if version is None or str(version) == "" else str(version)
        if given and label:
            raise SpecError(f"give version or label to get component '{name}', not both (as azure-ai-ml's "
                            "ml_client.components.get)", hint=f'ml_client.components.get("{name}", version='
                            f'"{given}") for a version, or label="latest" (or neither) for the newest')
        check_label(label, noun="component", name=name, cli="component", sdk="components")
        return self._entity(self._store.get(name, given))

    def list(self, name: str | None = None, *, list_view_type: Any = None,
             **_: Any) -> Iterator[CommandComponent]:
        """Without ``name`` one entry per component (its newest version), with ``name`` its versions; as
        azure.ai.ml's, archived ones only with ``list_view_type`` ``ALL`` or ``ARCHIVED_ONLY`` (a
        component is archived when all its versions are)."""
        view = str(getattr(list_view_type, "value", list_view_type) or "ActiveOnly").lower()
        records = self._store.list(name)
        archived = {r.name: r.archived for r in records} if name else {
            r.name: all(v.archived for v in self._store.list(r.name)) for r in records}
        wanted = {"all": (True, False), "archivedonly": (True,)}.get(view, (False,))
        return iter(self._entity(r) for r in records if (r.archived if name else archived[r.name]) in wanted)

    def archive(self, name: str, version: str | int | None = None, label: str | None = None,
                **_: Any) -> None:
        """Archive a version (``version=``, ``label="latest"``: the newest), or the whole component, as
        azure.ai.ml's; ``list`` then leaves it out, ``get`` with its version still gets it."""
        self._store.set_archived(name, self._version(name, version, label), True)

    def restore(self, name: str, version: str | int | None = None, label: str | None = None,
                **_: Any) -> None:
        """Restore what ``archive`` archived (a version, or every version of the component)."""
        self._store.set_archived(name, self._version(name, version, label), False)

    def _version(self, name: str, version: str | int | None, label: str | None) -> str | None:
        if version is not None and str(version) != "":
            return str(version)
        if label:
            check_label(label, noun="component", name=name, cli="component", sdk="components")
            return self._store.get(name).version
        return None

    def register(self, spec: CommandComponentSpec) -> ComponentRecord:
        """``runner component create``: the registered version's record; without a version, the newest
        version when its content is the same (``record.unchanged``). A secret's ``***`` as runner shows it
        is refused (under another name it is a value, with a warning); secrets are registered as written, with
        one warning (``runner.plan.env_secrets``)."""
        refuse_shown_mask(spec, spec.environment_variables)
        record = self._store.create(spec, reuse_newest=True)
        if secrets := builtins.list(secret_values(spec.environment_variables)):
            log.warning("%s", component_secret_warning(spec, secrets))
        if docker := builtins.list(docker_secrets(spec.resources.docker_args if spec.resources else ())):
            log.warning("%s", _docker_secret_warning(spec, docker))
        for warning in shown_mask_warnings(spec):  # a *** under a name that says no secret: a value
            log.warning("%s", warning)
        return record

    def records(self, name: str | None = None) -> builtins.list[ComponentRecord]:
        return self._store.list(name)

    def record(self, name: str, version: str | None = None) -> ComponentRecord:
        return self._store.get(name, version)

    def _entity(self, record: ComponentRecord) -> CommandComponent:
        # an auto version too
        data = {**yaml_spec(record.spec), "name": record.name, "version": record.version}
        spec = component_from_data(data, base_dir=self._store.root / record.name / record.version)
        return CommandComponent(spec, source=record.reference)


def _docker_secret_warning(spec: CommandComponentSpec, names: builtins.list[str]) -> str:
    """The one warning a component registered with secrets set in its ``resources.docker_args`` gets, at
    that line: their names (never a value), that the registry keeps them in plain text, and that a step
    running the component with them is refused (a pipeline keeps a step's secrets by its
    ``environment_variables`` only: ``env_secrets.refuse_step_docker_args_secrets``)."""
    one = len(names) == 1
    it = "it" if one else "them"
    return (f"{spec.where(*DOCKER_FIELD)}: {spec.field_name(*DOCKER_FIELD)} set {', '.join(names)}, which "
            f"{'looks like a secret' if one else 'look like secrets'}: the workspace's component registry "
            f"keeps {'its value' if one else 'their values'} in plain text (in runner.db), while "
            f"`component show` and `component list` show {names[0]}={MASK}; a pipeline step that runs the "
            "component with these docker_args is refused (a pipeline keeps its steps' secrets only as "
            f"environment_variables). Better: leave {it} out of the component's docker_args and give {it} in "
            "the pipeline step's environment_variables (kept out of its records, as a job's are), or keep "
            "the secret in a datastore or a file the job reads")


def _refuse_reference(text: str, takes: str) -> None:
    """A registered component's reference (``azureml:<name>:<version>``, ``azureml:<name>@latest``, as a
    pipeline's YAML names one) given where a name or a file is taken: one error naming the call for it."""
    if not text.startswith("azureml:"):
        return
    found = _REFERENCE.match(text)
    name = found["name"] if found else "<name>"
    given = f"version='{found['version']}'" if found and found["version"] else f"label='{LATEST_LABEL}'"
    label = found["label"] if found else None
    only = f" (the only label is '{LATEST_LABEL}')" if label and label != LATEST_LABEL else ""
    raise SpecError(f"{takes}, not a registered component's reference ('{text}')",
                    hint=f"`ml_client.components.get('{name}', {given})` gets the registered component{only}")
