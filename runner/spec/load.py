"""Loading a command job spec: YAML (+ ``--set`` overrides) or plain data -> a fully checked
``CommandJobSpec``, with warnings for the fields that mean nothing on one machine."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.errors import SourceLocation, SpecError
from runner.spec.distribution import distribution_warnings
from runner.spec.expressions import env_var_warnings, validate_command
from runner.spec.job import CommandJobSpec, validate_structure
from runner.spec.job_io import AssetInput, LiteralInput
from runner.spec.kinds import refuse_other_kinds
from runner.spec.secret_fields import shown_set_value
from runner.spec.validation import did_you_mean, from_validation_error, typo_of
from runner.spec.yamlio import YamlDoc, load_yaml, split_field_path
from runner.uris import ARTIFACTS
from runner.url_secrets import names_a_secret, without_secrets

logger = logging.getLogger(__name__)

# the one compute name that means something here: the job runs as a host process (no container)
LOCAL_PROCESS_COMPUTE = "local-process"

# field path -> why it is ignored. "*" matches any input/output name.
IGNORED: dict[tuple[str, ...], str] = {
    ("compute",): "the job runs on this machine",
    ("identity",): "local runs use the workspace's datastore credentials",
    ("services",): "interactive services are not started locally",
    ("queue_settings",): "there is no queue locally",
    ("resources", "instance_type"): "the job runs on this machine",
    ("resources", "properties"): "not used locally",
    ("resources", "locations"): "not used locally",
    ("resources", "max_instance_count"): "the job runs on one instance",
    ("environment", "inference_config"): "only used by deployments",
    ("inputs", "*", "datastore"): "local paths are used where they are",
    ("inputs", "*", "path_on_compute"): "inputs appear under /mnt/runner/inputs/<name>",
}


def parse_override(text: str, *, python: bool = False) -> tuple[str, Any]:
    """``"inputs.x.path=data/"`` -> ``("inputs.x.path", "data/")``; JSON values (3, true, {..}) parsed.
    ``python`` (here and below): the overrides were given as ``load_job``'s ``params_override``, which
    the Python words of an error name (``str(err)``), where the CLI's name ``--set``."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        text, raw = without_secrets(text), without_secrets(raw)  # echoed: never a secret in it
        raise SpecError(f"--set '{text}' is not key=value",
                        hint="write --set inputs.<name>.path=<path> (a dotted field path, '=', the value)",
                        python_message=f"params_override {{{key.strip()!r}: {raw!r}}} names no field"
                        if python else None,
                        python_hint="write params_override=[{'inputs.<name>.path': '<path>'}] (a dotted "
                                    "field path, then its value)" if python else None)
    return key.strip(), _value(raw)


def params_override_sets(params_override: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """``load_job``'s / ``load_component``'s ``params_override`` (``[{"inputs.x.path": "data/"}]``) as
    ``--set`` texts: a value that is not text as its JSON (``{"a": "b"}``, ``true``), read back by
    ``parse_override``."""
    return [f"{key}={value if isinstance(value, str) else json.dumps(value)}"
            for mapping in params_override or () for key, value in mapping.items()]


def _value(raw: str) -> Any:
    """A ``--set``'s value: JSON (3, true, {..}) parsed, any other text as it is."""
    try:
        value: Any = json.loads(raw)
        return raw if isinstance(value, str) else value
    except ValueError:
        return raw


def set_label(text: str, *, python: bool = False) -> str:
    """A ``--set`` as a message names it, its value without a secret (``shown_set_value``; ``***`` for
    ``--set AccountKey=...``, a secret variable, ``-e NAME=...``): the CLI's ``--set inputs.x.path=data/``;
    ``python``: ``load_job``'s ``params_override {'inputs.x.path': 'data/'}``."""
    key, _, raw = text.partition("=")
    shown = "***" if names_a_secret(key) else shown_set_value(split_field_path(key.strip()), raw)
    if python:
        return f"params_override {{{key.strip()!r}: {_value(shown)!r}}}"
    return f"--set {key.strip()}={shown}"


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], *,
                    python: bool = False) -> dict[str, str]:
    """Apply ``--set`` overrides in place, like ``az ml job create --set``; returns {key: how a message
    names the override (``set_label``; ``python``: given as ``load_job``'s ``params_override``)}."""
    applied: dict[str, str] = {}
    for text in overrides:
        key, value = parse_override(text, python=python)
        parts = split_field_path(key)
        target: Any = data
        for index, part in enumerate(parts[:-1]):
            if isinstance(target, dict):
                if not isinstance(target.get(part), dict | list):
                    target[part] = {}
                target = target[part]
            elif isinstance(target, list) and isinstance(part, int) and part < len(target):
                target = target[part]
            else:
                prefix = ".".join(str(p) for p in parts[:index + 1])
                raise SpecError(f"--set {key}: '{prefix}' is not a mapping", hint="check the field path",
                                python_message=f"params_override '{key}': '{prefix}' is not a mapping"
                                if python else None)
        last = parts[-1]
        if isinstance(target, list) and isinstance(last, int) and last < len(target):
            target[last] = value
        elif isinstance(target, dict):
            target[last] = value  # noqa: SIM114 - list and dict targets are typed differently
        else:
            raise SpecError(f"--set {key}: cannot set '{last}' here", hint="check the field path",
                            python_message=f"params_override '{key}': cannot set '{last}' here"
                            if python else None)
        applied[key] = set_label(text, python=python)
    return applied


def undeclared_sets(data: Mapping[str, Any], overrides: Sequence[str], groups: Sequence[str], *,
                    python: bool = False) -> list[tuple[str, str, str, list[str]]]:
    """Each ``--set <group>.<x>...`` naming no ``x`` the file has under ``group`` (``inputs``, a
    pipeline's ``jobs``): (the --set as written, group, x, the names the file has)."""
    found = []
    for text in overrides:
        parts = split_field_path(parse_override(text, python=python)[0])
        if len(parts) < 2 or parts[0] not in groups:
            continue
        group, name = str(parts[0]), str(parts[1])
        written = data.get(group)
        declared = [str(k) for k in written] if isinstance(written, dict) else []
        if name not in declared:
            found.append((text, group, name, declared))
    return found


def refuse_undeclared_sets(data: Mapping[str, Any], overrides: Sequence[str], *,
                           python: bool = False) -> None:
    """A pipeline's ``--set inputs.<x>...`` naming no input it declares (a typo would add an input no
    step reads), or ``--set jobs.<step>...`` naming no step: one error, with the names there are."""
    for text, group, name, declared in undeclared_sets(data, overrides, ("inputs", "jobs"), python=python):
        noun = "input" if group == "inputs" else "step"
        names = (f"the pipeline's {noun}s: {', '.join(declared) or 'none'} ({{}} changes what the file has; "
                 f"to add one, write it under {group}: in the file)")
        raise SpecError(f"the pipeline has no {noun} '{name}'{did_you_mean(name, declared)}",
                        field=f"{group}.{name} (from {set_label(text)})", hint=names.format("--set"),
                        python_field=f"{group}.{name} (from {set_label(text, python=True)})"
                        if python else None,
                        python_hint=names.format("params_override") if python else None)


def _reads(command: object, group: str, name: str) -> bool:
    """Whether a job's command uses an input it reads (an output it writes): ``${{<group>.<name>}}``,
    ``$<<<group>.<name>>>`` or its variable ``AZURE_ML_INPUT_<name>`` / ``AZURE_ML_OUTPUT_<name>``
    (``$X``, ``${X}``, ``os.environ['X']``; ``_`` for ``-`` too, as ``runner.plan.build`` exports it)."""
    if not isinstance(command, str):
        return False
    env = "AZURE_ML_INPUT_" if group == "inputs" else "AZURE_ML_OUTPUT_"
    forms = [rf"\b{group}\.{re.escape(name)}(?![\w-])", rf"\b{env}{re.escape(name)}(?![\w-])",
             rf"\b{env}{re.escape(name.replace('-', '_'))}(?!\w)"]
    return any(re.search(form, command) for form in forms)


def refuse_typo_sets(data: Mapping[str, Any], added: list[tuple[str, str, str, list[str]]], *,
                     python: bool = False) -> None:
    """A command job's ``--set inputs.<x>...`` / ``outputs.<x>...`` naming no input/output of the file
    but a slip of one it has (``typo_of``), which the command does not use: one error naming both and
    the flag (not what the value then fails on, as the new input would be uri_folder); the first only."""
    for text, group, name, declared in added:
        close = typo_of(name, declared)
        if close is None or _reads(data.get("command"), group, name):
            continue
        noun = group[:-1]
        rest = parse_override(text)[0][len(group) + len(name) + 1:]  # .path of inputs.<name>.path
        value = text.partition("=")[2]
        scrubbed = without_secrets(value) != value  # a query, password or key=value secret is not shown
        fixed = f"{group}.{close}{rest}={'<value>' if scrubbed else value}"
        why = (f" sets the file's {noun} '{close}'; a new {noun} this close to a name the file has is taken "
               f"for a typo: to add one, write it under {group}: in the job file")
        if scrubbed:
            why = f" (<value>: the one you gave, not shown: it may hold a secret){why}"
        given = set_label(fixed, python=True).removeprefix("params_override ")
        raise SpecError(f"the job file has no {noun} '{name}' (did you mean '{close}'?)",
                        field=f"{group}.{name} (from {set_label(text)})", hint=set_label(fixed) + why,
                        python_field=f"{group}.{name} (from {set_label(text, python=True)})"
                        if python else None,
                        python_hint=f"params_override=[{given}]{why}" if python else None)


def _added_warnings(spec: CommandJobSpec, added: list[tuple[str, str, str, list[str]]], *,
                    python: bool = False) -> list[str]:
    """A command job's input (output) added by ``--set`` (as ``az ml`` adds it) that its command does not
    read (write): one warning per name (a typo?); the job still gets it (``AZURE_ML_INPUT_<name>``)."""
    warnings: dict[tuple[str, str], str] = {}
    for text, group, name, declared in added:
        if (group, name) in warnings or _reads(spec.command, group, name):
            continue
        noun, verb, env = ("input", "read", "INPUT") if group == "inputs" else ("output", "write", "OUTPUT")
        warnings[(group, name)] = (
            f"{group}.{name} (from {set_label(text, python=python)}): the job file has no {noun} '{name}'"
            f"{did_you_mean(name, declared)} and the command does not {verb} it; it is added (as "
            f"$AZURE_ML_{env}_{name})")
    return list(warnings.values())


def is_pipeline_data(data: Any) -> bool:
    """Whether a loaded job file is a pipeline job (``type: pipeline``), to be checked by
    ``runner.spec.pipeline`` (imported only then: a command job never pays for the pipeline models)."""
    return isinstance(data, dict) and data.get("type") == "pipeline"


def spec_from_doc(doc: YamlDoc, overrides: Sequence[str] = (), *, python: bool = False) -> CommandJobSpec:
    """Validate a loaded YAML document (after ``--set`` overrides) into a checked spec. ``python``: the
    overrides were given as ``load_job``'s ``params_override``, which its messages name (not ``--set``)."""
    data = copy.deepcopy(doc.data) if overrides else doc.data
    if data is None:
        raise SpecError("the job file is empty", where=doc.where(()),
                        hint="a command job needs at least command: and environment:")
    refuse_other_kinds(data, doc)
    added = undeclared_sets(data, overrides, ("inputs", "outputs"), python=python) \
        if isinstance(data, dict) else []
    refuse_typo_sets(data, added, python=python)
    applied = apply_overrides(data, overrides, python=python) if isinstance(data, dict) else {}
    try:
        spec = validate_structure(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=CommandJobSpec, data=data, doc=doc,
                                    overridden=applied) from exc
    spec._base_dir = doc.base_dir
    spec._doc = doc
    spec._overridden = applied
    check_spec(spec, doc)
    for warning in _added_warnings(spec, added, python=python):
        spec._warnings.append(warning)
        logger.info("%s", warning)
    return spec


def load_job_spec(path: str | Path, overrides: Sequence[str] = ()) -> CommandJobSpec:
    """Load, validate and check a job YAML. Raises one ``SpecError`` (file:line:col, field, hint)."""
    return spec_from_doc(load_yaml(path), overrides)


def spec_from_data(data: dict[str, Any], *, base_dir: Path | None = None,
                   require_values: bool = True) -> CommandJobSpec:
    """Validate plain data (the Python builder): errors name the field, at ``<python>``.
    ``require_values=False``: an input may have no value yet (``command()``'s component inputs, as in
    azure.ai.ml); ``check_input_values`` refuses it when the job is submitted."""
    try:
        spec = validate_structure(data)
    except ValidationError as exc:
        raise from_validation_error(exc, root=CommandJobSpec, data=data, doc=None) from exc
    spec._base_dir = (base_dir or Path.cwd()).resolve()
    check_spec(spec, None, require_values=require_values)
    return spec


def spec_with(spec: CommandJobSpec, changes: Mapping[str, Any]) -> CommandJobSpec:
    """``spec`` with top-level fields replaced (a None value removes the field), checked as a job built
    in Python is (one ``SpecError`` naming the field, inputs without a value allowed until submitted);
    its base folder and source document are kept."""
    data = spec.to_yaml_dict()
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    changed = spec_from_data(data, base_dir=spec.base_dir, require_values=False)
    changed._doc, changed._overridden = spec._doc, dict(spec._overridden)
    return changed


def _where(doc: YamlDoc | None, *parts: str | int) -> SourceLocation:
    return doc.where(parts) if doc is not None else SourceLocation(None)


def _refuse_twins(entries: Mapping[str, object], kind: str, doc: YamlDoc | None) -> None:
    """Two inputs (or two outputs) whose names differ only in case or in ``-``/``_``: Azure ML refuses
    names equal ignoring case, and ``AZURE_ML_INPUT_<name with _>`` would be one variable for both.
    (An input and an output may share a name: their folders and variables differ.)"""
    seen: dict[str, str] = {}
    for name in entries:
        twin = seen.setdefault(name.lower().replace("-", "_"), name)
        if twin != name:
            raise SpecError(f"{kind} '{twin}' and '{name}' are one name ignoring case and '-'/'_'",
                            field=f"{kind}.{name}", where=_where(doc, kind, name),
                            hint=f"rename one of them (Azure ML refuses {kind[:-1]} names equal "
                                 "ignoring case)")


def check_input_values(spec: CommandJobSpec, doc: YamlDoc | None = None) -> None:
    """Every required input has a value (a path, a literal or a default): one ``SpecError`` naming the
    first that has none. Azure checks this when a job is submitted (a node's required inputs)."""
    python = doc is None  # built (or edited) in Python: the fix is written in Python
    for name, job_input in spec.inputs.items():
        if job_input.optional or job_input.has_value:
            continue
        if isinstance(job_input, AssetInput):
            raise SpecError(f"input '{name}' has no path", field=f"inputs.{name}",
                            where=_where(doc, "inputs", name),
                            hint=f"set job.inputs['{name}'].path (or Input(..., optional=True)), or call the "
                                 "job as a step of a @dsl.pipeline" if python else
                                 "add path: <local path or azureml:// URI>, or optional: true")
        if isinstance(job_input, LiteralInput):
            raise SpecError(f"input '{name}' has no value", field=f"inputs.{name}",
                            where=_where(doc, "inputs", name),
                            hint=f"set job.inputs['{name}'] (a value, or Input(..., default=...)), or "
                                 "call the job as a step of a @dsl.pipeline" if python else
                                 "write a value (name: 3), or default:, or optional: true")


def check_spec(spec: CommandJobSpec, doc: YamlDoc | None, *, require_values: bool = True) -> None:
    """Cross-field checks (inputs have values unless not ``require_values``, expressions resolve) and
    the ignored-field warnings."""
    if require_values:
        check_input_values(spec, doc)
    for kind in ("inputs", "outputs"):
        _refuse_twins(getattr(spec, kind), kind, doc)
    if ARTIFACTS in spec.outputs:
        raise SpecError(f"'{ARTIFACTS}' is the reserved name of the job's default artifact location",
                        field=f"outputs.{ARTIFACTS}", where=_where(doc, "outputs", ARTIFACTS),
                        hint="rename the output")
    command_at = _where(doc, "command")

    def locate(text: str) -> SourceLocation:
        found = doc.find(text, after=command_at) if doc is not None else None
        return found or command_at

    valued = {k: v.has_value or (not require_values and not v.optional) for k, v in spec.inputs.items()}
    validate_command(spec.command, inputs=valued,
                     outputs=spec.outputs.keys(), locate=locate)
    warnings: list[str] = []
    for text, key in zip(env_var_warnings(spec.environment_variables), spec.environment_variables,
                         strict=False):
        warnings.append(f"{_where(doc, 'environment_variables', key)}: {text}")
    ignored = _ignored_fields(spec)
    for path, reason in ignored:
        warnings.append(f"{_where(doc, *path)}: {'.'.join(path)} is ignored ({reason})")
    if uses_local_process(spec) and not isinstance(spec.environment, str) and spec.environment.conda_file:
        warnings.append(f"{_where(doc, 'environment', 'conda_file')}: environment.conda_file is not "
                        f"installed for a job run as a host process (compute: {LOCAL_PROCESS_COMPUTE}): the "
                        "host's Python runs it")
    if spec.resources.instance_count > 1:
        warnings.append(f"{_where(doc, 'resources', 'instance_count')}: resources.instance_count="
                        f"{spec.resources.instance_count} runs as 1 instance locally")
    warnings.extend(distribution_warnings(spec))  # checked: a bad one is one SpecError
    spec._warnings = warnings
    spec._ignored = [".".join(path) for path, _ in ignored]
    for warning in warnings:
        logger.info("%s", warning)


def reword_ignored(spec: CommandJobSpec, field: str, text: str | None) -> bool:
    """Replace the "<field> is ignored" warning with ``text`` (same file:line), or drop it (None) when
    the field turned out to mean something: ``compute`` naming a registered Ray cluster, which the
    spec alone cannot know. Idempotent; True when there was such a warning to reword."""
    marker = f": {field} is ignored ("
    warnings = []
    reworded = False
    for warning in spec._warnings:
        where, found, _ = warning.partition(marker)
        reworded = reworded or bool(found)
        if found and text is None:
            continue
        warnings.append(f"{where}: {text}" if found and text else warning)
    spec._warnings = warnings
    if text is None:
        spec._ignored = [f for f in spec._ignored if f != field]
    return reworded


def uses_local_process(spec: CommandJobSpec) -> bool:
    return (spec.compute or "").removeprefix("azureml:") == LOCAL_PROCESS_COMPUTE


def _ignored_fields(spec: CommandJobSpec) -> list[tuple[tuple[str, ...], str]]:
    data = spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    found: list[tuple[tuple[str, ...], str]] = []
    for pattern, reason in IGNORED.items():
        if pattern == ("compute",) and uses_local_process(spec):
            continue
        for path in _expand(data, pattern):
            found.append((path, reason))
    return found


def _expand(data: Any, pattern: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not pattern:
        return [()]
    if not isinstance(data, dict):
        return []
    head, rest = pattern[0], pattern[1:]
    keys = list(data) if head == "*" else [head] if head in data else []
    return [(str(key), *tail) for key in keys for tail in _expand(data[key], rest)]
