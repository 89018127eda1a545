"""A job's recorded texts in the Python API's words, for a caller of ``ml_client.jobs``.

    in_python(text)                   # each CLI command, flag and YAML mode the text names, in Python's words
    failed_error(record, log_path)    # what ``stream`` raises for a Failed or Canceled job
    tell(logger, warnings)            # a submitted job's warnings, each logged once, in Python's words

A job's record is written once, by whichever process ran it, in the CLI's words (``runner job show``
prints it): its error says ``runner job stream --name j`` (``runner.jobs.run``, ``runner.jobs.ray_follow``),
a missing image's ``runner environment create --name N --image IMAGE`` (``runner.backends.docker``), an
unreachable engine's ``--backend process``, a direct input's ``mode: download``. A Python caller reads the
same text with each such command as its call and each flag or mode as its keyword
(``JobFailedError.python_message``, ``str(err)``; ``ml_client.jobs``' returned jobs' ``.error``, see
``runner.client_jobs``; the logged warnings of ``create_or_update``): what an error's ``python_hint`` says
where it has one, so its ``render()`` read so is its ``str(err)``. The record itself is never rewritten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from runner.errors import JobFailedError
from runner.spec.load import set_label
from runner.workspace.db import JobRecord

_NAME = r"([^`\s]+)"
_CALLS = (  # a command, in backticks, as the call that does it
    (re.compile(rf"`runner job stream --name {_NAME}`"), r"`ml_client.jobs.stream('\1')`"),
    (re.compile(rf"`runner job show --name {_NAME}`"), r"`ml_client.jobs.get('\1')`"),
    (re.compile(r"`runner job list`"), "`ml_client.jobs.list()`"),
    (re.compile(r"`job show`"), "`ml_client.jobs.get(...)`"),
    (re.compile(rf"`runner environment create --name {_NAME} --image {_NAME}`"),
     r"`ml_client.environments.create_or_update(name='\1', image='\2')`"),
    (re.compile(rf"`runner datastore show --name {_NAME}`"), r"`ml_client.datastores.get('\1')`"),
    (re.compile(rf"`runner datastore create --file {_NAME}`"),
     r"`ml_client.datastores.create_or_update(load_datastore('\1'))`"),
    (re.compile(r"`runner datastore create`"), "`ml_client.datastores.create_or_update(...)`"),
    # a job output's type, as a registration's hint names it (runner.workspace.registry.NotThatModelType)
    (re.compile(r"set the output's `type: ([a-z_]+)`"),
     lambda found: f"give the output `type=AssetTypes.{found[1].upper()}`"),
)
_COMPUTE_CREATE = re.compile(rf"`runner compute create --name {_NAME}((?: --[a-z-]+ [^`\s]+)*)( \.\.\.)?`")
_COMPUTE_FLAG = re.compile(r" --([a-z-]+) ([^`\s]+)")
_ASSET_CREATE = re.compile(rf"`runner (data|model) create --name {_NAME} --version {_NAME} --path "
                           r"(<local path or URL>|[^`\s]+) --type ([a-z_]+)`")
_MODE = r"(?:ro_mount|rw_mount|download|upload|direct|eval_mount|eval_download)"
_FLAGS = (  # outside backticks: a flag or a YAML setting as the keyword that sets it
    (re.compile(rf"(?<![\w.-])mode: ({_MODE})((?:(?: or |, | / )(?:mode: )?{_MODE})*)"), None),
    (re.compile(r"(?<![\w.-])compute: local-process\b"), "compute='local-process'"),
    (re.compile(r"(?<![\w/-])--backend ([a-z]+)\b"), r"backend='\1'"),
    (re.compile(r"(?<![\w/-])--no-upload-on-failure\b"), "upload_on_failure=False"),
    (re.compile(r"\(from --set ([^=\s]+)=([^)]*)\)"), None),
    (re.compile(r"(?<![\w/-])--set ([^=\s`]+)=([^\s,;)`]+)"), r"params_override=[{'\1': '\2'}]"),
)


def in_python(text: str) -> str:
    """``text`` with each ``runner`` command a job's record names as the ``ml_client`` call that does it,
    and (outside backticks) each flag and YAML mode as the keyword: ``--backend process`` is
    ``backend='process'``, ``mode: download`` ``mode='download'``, ``(from --set k=v)`` ``(from
    params_override {'k': 'v'})``. Said again, the text is unchanged."""
    for pattern, call in _CALLS:
        text = pattern.sub(call, text)
    text = _COMPUTE_CREATE.sub(_compute_call, text)
    text = _ASSET_CREATE.sub(_asset_call, text)
    parts = text.split("`")  # the odd parts are inside backticks: commands and calls, as they are
    return "`".join(part if i % 2 else _keywords(part) for i, part in enumerate(parts))


def _compute_call(found: re.Match[str]) -> str:
    """``runner compute create --name N --type ray ...`` as ``ml_client.compute.create_or_update({...})``."""
    fields = [f"'name': '{found[1]}'"] + [f"'{flag.replace('-', '_')}': '{value}'"
                                          for flag, value in _COMPUTE_FLAG.findall(found[2])]
    return f"`ml_client.compute.create_or_update({{{', '.join(fields + (['...'] if found[3] else []))}}})`"


def _asset_call(found: re.Match[str]) -> str:
    """``runner data create --name N --version V --path P --type T`` (how to register an unknown data asset
    or model, ``runner.workspace.assets``) as the ``ml_client`` call that does it."""
    group, entity = ("data", "Data") if found[1] == "data" else ("models", "Model")
    return (f"`ml_client.{group}.create_or_update({entity}(name='{found[2]}', version='{found[3]}', "
            f"path='{found[4]}', type=AssetTypes.{found[5].upper()}))`")


def _keywords(part: str) -> str:
    for pattern, keyword in _FLAGS:
        part = pattern.sub(keyword if keyword is not None else _keyword, part)
    return part


def _keyword(found: re.Match[str]) -> str:
    """A list of modes (``mode: download or ro_mount``), or a ``--set`` as a message names it."""
    if found[0].startswith("(from --set"):
        return f"(from {set_label(f'{found[1]}={found[2]}', python=True)})"
    rest = re.sub(rf"(?:mode: )?({_MODE})", r"mode='\1'", found[2])
    return f"mode='{found[1]}'{rest}"


def tell(logger: logging.Logger, warnings: Iterable[str]) -> None:
    """A submitted job's warnings (its record's ``extra["warnings"]``) logged, each once, in Python's
    words: what ``runner job create`` prints as ``warning:`` lines, for a caller of ``ml_client.jobs``."""
    for warning in dict.fromkeys(warnings):
        logger.warning("%s", in_python(warning))


def failed_error(record: JobRecord, log_path: Path) -> JobFailedError:
    """``stream``'s error for a job that ended Failed or Canceled: why, and where its log is; the
    recorded reason in the Python API's words for a Python caller (``str(err)``)."""
    why = f": {record.error}" if record.error else (
        f" (exit code {record.exit_code})" if record.exit_code is not None else "")
    message = f"job '{record.name}' ended {record.status.value}{why}"
    err = JobFailedError(message, job_name=record.name, status=record.status.value,
                         hint=f"its log: `runner job stream --name {record.name}` (the file {log_path}); "
                              f"`runner job show --name {record.name}` shows the job",
                         python_hint=f"its log: the file {log_path}; `ml_client.jobs.get('{record.name}')` "
                                     "shows the job")
    err.python_message = in_python(message)
    return err
