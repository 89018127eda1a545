"""The YAML reference's tables, generated from the spec models at every docs build.

Every field comes from the pydantic models that validate the YAML (``runner.spec.job``,
``runner.spec.job_io``, ``runner.spec.model``, ``runner.workspace.datastore_kinds``); "ignored" and its
reason come from ``runner.spec.load.IGNORED``, the list the loader warns from. What this module adds is a
one-line description per field (a field without one fails the build, so a new field cannot go
undocumented) and how each field stands against Azure ML's own schema (``NOT_IN_AZURE``,
``AZURE_ONLY``), which ``tests/docs/test_docs_yaml_reference.py`` recomputes from azure-ai-ml's schemas.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

from docs_yaml_fields import FIELD_DOCS  # the descriptions (a sibling module of this one)
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from runner.spec.job import BuildContext, CommandJobSpec, InlineEnvironment, LimitsSpec, ResourcesSpec
from runner.spec.job_io import AssetInput, LiteralInput, OutputSpec
from runner.spec.load import IGNORED
from runner.spec.asset import READ_ONLY_YAML_FIELDS
from runner.spec.model import MODEL_YAML_FIELDS
from runner.workspace.azure_datastore import AzureCredentials, AzureDatastore
from runner.workspace.datastore_base import DatastoreBase
from runner.workspace.datastore_kinds import FsspecDatastore, LocalDatastore


class DocsError(Exception):
    """A field the reference cannot describe (the build fails with this message)."""


# (table, prefix, model): every field of ``model`` is a row named ``prefix + field``
JOB_TABLES: tuple[tuple[str, str, type[BaseModel]], ...] = (
    ("job", "", CommandJobSpec),
    ("environment", "environment.", InlineEnvironment),
    ("environment", "environment.build.", BuildContext),
    ("resources", "resources.", ResourcesSpec),
    ("resources", "limits.", LimitsSpec),
    ("asset-inputs", "inputs.<name>.", AssetInput),
    ("literal-inputs", "inputs.<name>.", LiteralInput),
    ("outputs", "outputs.<name>.", OutputSpec),
)
DATASTORE_TABLES: tuple[tuple[str, str, type[BaseModel]], ...] = (
    ("datastore-common", "", DatastoreBase),  # the kinds' tables leave these fields out
    ("datastore-local", "", LocalDatastore),
    ("datastore-azure", "", AzureDatastore),
    ("datastore-azure", "credentials.", AzureCredentials),
    ("datastore-fsspec", "", FsspecDatastore),
)

# Fields runner accepts that Azure ML's schema (azure-ai-ml) does not have there. Checked by a test.
NOT_IN_AZURE: dict[str, str] = {
    "resources.gpu_count": "runner only",
    "inputs.<name>.description": "Azure takes it in component inputs, not in a job's",
    "inputs.<name>.optional": "Azure takes it in component inputs, not in a job's",
    "inputs.<name>.type (literal)": "Azure takes typed literals in component inputs; a job's are plain "
                                    "values",
    "inputs.<name>.default": "Azure takes it in component inputs, not in a job's",
    "inputs.<name>.min": "Azure takes it in component inputs, not in a job's",
    "inputs.<name>.max": "Azure takes it in component inputs, not in a job's",
    "inputs.<name>.enum": "Azure takes it in component inputs, not in a job's",
    "outputs.<name>.description": "Azure takes it in component outputs, not in a job's",
    "model.created_at": "what `runner model show -o yaml` prints; ignored when read back",
    "model.archived": "what `runner model show -o yaml` prints; ignored when read back",
    "model.datastore_uri": "what `runner model show -o yaml` prints; ignored when read back",
    "datastore.account_url": "runner only: a full endpoint, for emulators (alias blob_endpoint)",
    "datastore.connection_string": "runner only",
}
# Fields of Azure ML's schema that runner refuses (one error naming the field). Checked by a test.
AZURE_ONLY: dict[str, str] = {
    "environment.auto_delete_setting": "refused: an unknown field here",
    "environment.datastore": "refused: an unknown field here",
    "environment.id": "refused: an unknown field here",
    "model.allowed_deployment_templates": "refused: deployments are not run here",
    "model.default_deployment_template": "refused: deployments are not run here",
    "model.datastore": "refused: a model's path names its datastore (azureml://datastores/...)",
    "model.system_metadata": "refused: an unknown field here",
}


def _ignored_reasons() -> dict[str, str]:
    return {".".join("<name>" if p == "*" else p for p in path): why for path, why in IGNORED.items()}


def _doc(docs: dict[str, str], key: str) -> str:
    try:
        return docs[key]
    except KeyError:
        raise DocsError(f"the YAML reference has no description for '{key}': add one to "
                        f"FIELD_DOCS in scripts/docs_yaml_fields.py") from None


def _type_name(annotation: Any) -> str:  # noqa: C901 - one case per kind of annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(names))
    if origin is typing.Literal:
        return "`" + "` or `".join(str(a) for a in args) + "`"
    if origin in (dict, typing.Dict):  # noqa: UP006
        return "mapping"
    if origin in (list, typing.List):  # noqa: UP006
        item = _type_name(args[0]) if args else "value"
        return f"list of {item}s" if " " not in item else "list of values"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):  # AssetType -> "asset type" (the description lists them)
            return re.sub(r"(?<!^)([A-Z])", r" \1", annotation.__name__).lower()
        if issubclass(annotation, BaseModel):
            return "mapping"
        if issubclass(annotation, SecretStr):
            return "string (secret)"
        return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(annotation,
                                                                                   annotation.__name__)
    return str(annotation)


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        return "" if value in ({}, []) or isinstance(value, BaseModel) else f"`{value}`"
    value = field.default
    if value is None or value is PydanticUndefined or isinstance(value, BaseModel):
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _rows(prefix: str, model: type[BaseModel], docs: dict[str, str], doc_prefix: str = ""
          ) -> Iterator[str]:
    ignored = _ignored_reasons()
    kind = model is not DatastoreBase and issubclass(model, DatastoreBase)
    common = DatastoreBase.model_fields if kind else {}  # in the common table, not each kind's
    for name, field in model.model_fields.items():
        if name in common:
            continue
        # the YAML key: the field's name (``$schema`` is spelled by its alias), also its alias when both work
        spelled = field.alias if field.alias and name.endswith("_") else name
        key = prefix + spelled
        doc_key = doc_prefix + key
        if model is LiteralInput and name == "type":
            doc_key += " (literal)"
        what = _doc(docs, doc_key)
        if key in ignored:
            what = f"**Accepted and ignored** (a warning): {ignored[key]}. {what}".rstrip(". ") + "."
        if doc_key in NOT_IN_AZURE:
            what += f" *Not in Azure ML's schema: {NOT_IN_AZURE[doc_key]}.*"
        also = f" (also `{field.alias}`)" if field.alias and field.alias != spelled else ""
        yield f"| `{key}`{also} | {_type_name(field.annotation)} | {_default(field)} | {what} |"


HEADER = "| Field | Type | Default | What it does here |\n|---|---|---|---|"


def table(name: str) -> str:
    """One generated table, by the name a page's ``<!-- generated: yaml-NAME -->`` gives."""
    if name == "model":
        return _model_table(FIELD_DOCS)
    if name == "azure-only":
        return "| Field | Here |\n|---|---|\n" + "\n".join(
            f"| `{key}` | {why} |" for key, why in AZURE_ONLY.items())
    sections = [t for t in JOB_TABLES + DATASTORE_TABLES if t[0] == name]
    if not sections:
        raise DocsError(f"no YAML table named '{name}'")
    doc_prefix = "datastore." if name.startswith("datastore") else ""
    rows = [row for _, prefix, model in sections for row in _rows(prefix, model, FIELD_DOCS, doc_prefix)]
    return HEADER + "\n" + "\n".join(rows)


def _model_table(docs: dict[str, str]) -> str:
    from runner.spec.model import Model

    rows = []
    for key in (*MODEL_YAML_FIELDS, *READ_ONLY_YAML_FIELDS):
        field = Model.model_fields.get(key)
        kind = _type_name(field.annotation) if field is not None else "string"
        what = _doc(docs, f"model.{key}")
        if key in READ_ONLY_YAML_FIELDS:
            what = f"**Read-only**: accepted and ignored on create. {what}"
        if f"model.{key}" in NOT_IN_AZURE:
            what += f" *Not in Azure ML's schema: {NOT_IN_AZURE[f'model.{key}']}.*"
        default = _default(field) if field is not None and key in MODEL_YAML_FIELDS else ""
        rows.append(f"| `{key}` | {kind} | {default} | {what} |")
    return HEADER + "\n" + "\n".join(rows)
