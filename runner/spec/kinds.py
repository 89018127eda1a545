"""What a YAML file is when it is not a command job: one line that says so (and how to use it).

Azure's files say what they are with ``$schema`` (``commandComponent.schema.json``,
``pipelineJob.schema.json``, ``data.schema.json`` ...) or ``type:`` (``pipeline``, ``sweep``, ``automl``,
``spark``, ``parallel``). runner runs command jobs (and pipelines of them, read by ``runner.spec.pipeline``
before this is asked); the others get one message instead of a list of "unknown field" errors.
"""

from __future__ import annotations

import re
from typing import Any

from runner.errors import SourceLocation, SpecError
from runner.spec.validation import did_you_mean
from runner.spec.yamlio import YamlDoc

OTHER_JOB_TYPES = ("pipeline", "sweep", "automl", "spark", "parallel", "import", "data_transfer")
_JOB_OR_COMPONENT = re.compile(r"(?P<kind>[A-Za-z]+?)(?P<what>Job|Component)\.schema\.json$")
_ASSET_SCHEMA = re.compile(r"(?P<kind>data|model|environment)\.schema\.json$")
# what the file is; how to use it with the CLI, and in Python
_ASSETS = {"data": ("a data asset", "`runner data create --file <this file>`",
                    "`ml_client.data.create_or_update(load_data('<this file>'))`"),
           "model": ("a model", "`runner model create --file <this file>`",
                     "`ml_client.models.create_or_update(load_model('<this file>'))`"),
           "environment": ("an environment", "environment: file:<this file> in a job",
                           "environment: file:<this file> in a job")}
_DATA_TYPES = ("uri_file", "uri_folder", "mltable")
# what to do instead of a job type runner does not run: the CLI's words, Python's
_INSTEAD = {"sweep": ("run its trial: as a command job (its command, environment and inputs), once per "
                      "setting of its search_space: `runner job create --file <trial job> --set "
                      "inputs.<name>=<value>` each (runner does no hyperparameter search)",
                      "run its trial as a command job, once per setting of its search space: "
                      "`ml_client.jobs.create_or_update(load_job('<trial job>', params_override=[{'inputs."
                      "<name>': <value>}]))` each (runner does no hyperparameter search)")}
_OTHER_INSTEAD = ("write what it runs as a command job (command: and environment:, with type: command or no "
                  "type:)")
_OTHER_PYTHON = "build what it runs as a command job: command(command=..., environment=...)"


def unsupported_job_type(job_type: str) -> tuple[str, str, str]:
    """The one refusal of a job type runner does not run (all but command and pipeline): its message, its
    hint (the CLI's and the YAML's words) and the hint in the Python API's words (what ``str(err)`` shows
    a Python caller). Said by the YAML's check here and by the command job's own ``type`` check
    (``runner.spec.job``: ``--set type=...``, ``params_override``, a job built from data)."""
    hint, python_hint = _INSTEAD.get(job_type, (_OTHER_INSTEAD, _OTHER_PYTHON))
    return (f"this job type is not supported (yet): {job_type} (runner runs command and pipeline jobs)",
            hint, python_hint)


def refuse_other_kinds(data: Any, doc: YamlDoc | None) -> None:
    """Raise one ``SpecError`` when ``data`` is not a command job but another kind of Azure file."""
    if not isinstance(data, dict):
        return
    schema_url = str(data.get("$schema") or "")
    at_schema = doc.where(("$schema",)) if doc is not None else None
    _refuse_asset(data, schema_url, at_schema)
    schema = _JOB_OR_COMPONENT.search(schema_url)
    if schema and schema["what"] == "Component":
        raise SpecError(f"this file is a {schema['kind']} component ({schema.group(0)}), not a job: a "
                        "component runs as a step of a pipeline job",
                        where=at_schema, hint="use it in a pipeline's jobs: (component: ./<this file>) or "
                                              "register it with `runner component create --file <this "
                                              "file>`; to run its command alone, write a command job",
                        python_hint="call load_component('<this file>') in a @dsl.pipeline, or register it "
                                    "with `ml_client.components.create_or_update(load_component('<this "
                                    "file>'))`; to run its command alone, write a command job")
    _refuse_unknown_type(data, doc, at_schema)
    job_type = str(data.get("type") or (schema["kind"] if schema else "command")).lower()
    if job_type in OTHER_JOB_TYPES or (job_type != "command" and schema is not None):
        at_type = doc.where(("type",)) if doc is not None and "type" in data else at_schema
        if job_type == "pipeline":  # read as a command job here: where only a command job is taken
            raise SpecError("this is a pipeline job; a command job is expected here", where=at_type,
                            hint="run it with `runner job create --file <this file>` (or load_job in Python)")
        message, hint, python_hint = unsupported_job_type(job_type)
        raise SpecError(message, where=at_type, hint=hint, python_hint=python_hint)


def _refuse_unknown_type(data: dict[str, Any], doc: YamlDoc | None, at_schema: SourceLocation | None) -> None:
    """``type: pipline``: one error naming the type (not the fields a command job does not have)."""
    if "type" not in data or data["type"] in ("command", *OTHER_JOB_TYPES):
        return
    written = str(data["type"])
    raise SpecError(f"unknown job type '{written}'{did_you_mean(written, ('command', *OTHER_JOB_TYPES))}",
                    field="type", where=doc.where(("type",)) if doc is not None else at_schema,
                    hint=f"the job types are command, pipeline (runner runs these two), "
                         f"{', '.join(OTHER_JOB_TYPES[1:])}; write type: command (or leave it out) for a "
                         "command job")


def _refuse_asset(data: dict[str, Any], schema_url: str, where: SourceLocation | None) -> None:
    if "dependencies" in data and "command" not in data:
        raise SpecError("this file is a conda environment file, not a job", where=where,
                        hint="use it in a job: environment: {image: runner/python:3.11, conda_file: <file>}")
    asset = _ASSET_SCHEMA.search(schema_url)
    kind = asset["kind"] if asset else "data" if data.get("type") in _DATA_TYPES and "command" not in data \
        else None
    if kind:
        what, use, python = _ASSETS[kind]
        raise SpecError(f"this file is {what}, not a job", where=where, hint=f"use it with {use}",
                        python_hint=f"use it with {python}")
