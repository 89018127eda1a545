"""Which outputs of an ended job did not (all) reach their location, from what its record and its folder
keep: ``job download`` and a user's registration of ``azureml://jobs/<job>/outputs/<o>`` refuse them
rather than copy or register part of an output as if it were whole.

An output is incomplete when the job did not complete and

* its record holds it back (``extra["held_back_outputs"]``: ``--no-upload-on-failure``, a full disk when
  the command ended, an error that ended the run, each uploading nothing; or a runner that died, which may
  have uploaded part of it: its location is looked at then);
* its upload failed (``extra["outputs_not_durable"]``: how many of its files could not be uploaded or
  moved into place, of how many, and where its staged data is kept; a record written before the runner
  wrote that says it only in its error's text, read then);
* or its staging folder (``<job>/outputs/<o>``, which a finished upload empties) still holds files.

Where its data is: an ``upload`` to a remote store keeps every staged file until all are uploaded (the
staging folder holds the whole output); a move into a local datastore and ``rw_mount`` move or upload
file by file (the staging folder holds the files that did not get there, the others are at its
location). Nothing here follows a link: the staging folders are listed with ``runner.workspace.trees``.

Where a record says an output's staged data is kept (``held_back_outputs``, ``outputs_not_durable``'s
"staged") is taken only inside that output's own staging folder of the job (``own_staged``: a declared
output's ``<job>/outputs/<o>`` in this workspace, no link on the way): a Ray node's result names them
(``runner.jobs.ray_result``) and a record file can be edited, so a path elsewhere (``/etc``) is never
counted, shown or offered to copy from; the output's own staging folder stands in for it. A Ray job's
staged data kept on its node (``KEPT_KEY``) is named with the node's host and path there, never looked at.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.modes import PathKind
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.trees import count_files, holds_files, is_folder, subfolders

log = logging.getLogger(__name__)

HELD_BACK_WHY = "ran with --no-upload-on-failure"  # a record that says nothing else (older runners')
DIED = "its runner process"  # how recovery's ``held_back_why`` begins: it may have uploaded part
# extra key (``runner.jobs.run``): {output: {"failed": files not made durable, "total": of how many,
# "staged": where its staged data is kept}}, each None when not known
NOT_DURABLE_KEY = "outputs_not_durable"
# extra key of a Ray job (``runner.jobs.node_keep``): {output: {"host", "path", "files"}}, its staged data
# kept on the node; a path there is never read here (text only), "ip" the node's as Ray told the follower
KEPT_KEY = "outputs_kept_on_node"
# extra key of a Ray job (``runner.jobs.node_keep``): {output: the node}, its staged data that could not be
# kept there, removed with the node's workspace; the node as "host (ip)" once the follower knows its IP
REMOVED_KEY = "outputs_removed_on_node"
# the error's text of a record written before that key, read only for such a record (``_from_text``): what
# its failed uploads follow, and how each was worded
NOT_DURABLE = "outputs could not be made durable:"
_SECTION = re.compile(r"^output '([^'\n]+)' \(", re.MULTILINE)
_OF_TOTAL = re.compile(r"(\d+) of (\d+) file\(s\) could not be uploaded")
_COUNTED = re.compile(r"(\d+) file\(s\) (?:written to \S+ )?(?:could not be (?:uploaded|moved into place)|"
                      r"were not uploaded)")
_KEPT_AT = re.compile(r"^ +staged data kept at: (.+)$", re.MULTILINE)
FailedUpload = tuple[int | None, int | None, str | None]  # files not made durable, of how many, where kept


@dataclass(frozen=True)
class Incomplete:
    """An output of an ended job that did not all reach its location."""

    output: str
    kept_at: Path  # its staging folder
    files: int  # files kept there now
    why: str  # why it was not (all) uploaded: "its upload failed", the record's reason
    reached: bool | None  # whether part of it is at its location; None: not known (not looked at)
    whole: bool  # ``kept_at`` holds all of it (else: what did not reach its location)
    held_back: bool  # the record holds it back (its message says so in the words it always did)
    location: str  # where it was to go: a local folder, else its URI
    missing: int | None = None  # files that did not reach its location, when the record says
    total: int | None = None  # files it had, when the record says
    node: str | None = None  # the Ray node ``kept_at`` is on (a path there, never looked at here)
    removed_on: str | None = None  # the Ray node that removed its staged data (it could not keep it)
    job: str = ""  # the job's name, for the hint's ``runner job finalize``

    def sentence(self) -> str:
        """What happened to it and where its data is, e.g. "its output 'o' was not fully uploaded to
        az://c/o (37 of 40 files could not be uploaded): its upload failed (the job's error says why); its
        whole data is kept in /ws/jobs/j/outputs/o (40 files)"."""
        count = ""
        if self.missing is not None and self.reached is not False:
            what = _files(self.missing) if self.total is None else f"{self.missing} of {_files(self.total)}"
            count = f" ({what} could not be uploaded)"
        done = "was never uploaded" if self.reached is False else "was not fully uploaded"
        place = f"on Ray node {self.node} at" if self.node else "in"
        where = (f"its whole data is kept {place} {self.kept_at} ({_files(self.files)})" if self.whole else
                 f"the files that did not get there are kept {place} {self.kept_at} ({_files(self.files)}), "
                 f"the others are there")
        if self.removed_on:  # a Ray node that could not keep it: nowhere
            where = f"its staged data could not be kept on Ray node {self.removed_on}: it was removed there"
        return f"its output '{self.output}' {done} to {self.location}{count}: {self.why}; {where}"

    def hint(self, *, register: bool = False) -> str:
        """What to do: upload it again from there (``runner job finalize``: kept in this workspace), copy the
        data from where it is (and register the copy), or run the job again."""
        then = " and register the copy" if register else ""
        first = f"`runner job finalize --name {self.job}` uploads it from there; or " if self.job else ""
        if self.removed_on:
            return "run the job again"
        if self.node:
            return (f"on that node, copy it from there (e.g. cp -r {self.kept_at} DEST; from another "
                    f"machine: scp -r <node>:{self.kept_at} DEST){then}, or run the job again")
        if self.whole:
            return f"{first}copy it from there (e.g. cp -r {self.kept_at} DEST){then}, or run the job again"
        if Path(self.location).is_absolute():  # a local folder
            return (f"{first}put it together from both (e.g. cp -r {self.location} DEST && cp -r "
                    f"{self.kept_at}/. DEST){then}, or run the job again")
        return (f"{first}copy the files kept there and the others from {self.location}{then}, or run the job "
                "again")


def incomplete_outputs(ws: Workspace, record: JobRecord, names: list[str] | None = None, *,
                       check: bool = True) -> dict[str, Incomplete]:
    """The outputs of ``record`` (those in ``names``, or all) that did not all reach their location; {}
    for a job that completed or has not ended. ``check``: whether a remote store may be read (to tell
    whether a dead runner uploaded part of an output)."""
    if not record.status.is_terminal or record.status is JobStatus.COMPLETED or \
            record.spec.get("type") == "pipeline":  # a pipeline's outputs are its steps' (their records)
        return {}
    held = _held_back(ws, record)
    # an output's name is one folder name in the staging folder, never a path out of it
    failed = {name: found for name, found in _failed_uploads(record).items() if plain_name(name)}
    outputs = Path(record.job_dir) / "outputs" if record.job_dir else ws.job_dir(record.name).outputs
    wanted = set(held) | set(failed) | {p.name for p in subfolders(outputs) if holds_files(p)} | \
        {name for name in [*kept_on_node(record), *removed_on_node(record)] if plain_name(name)}
    return {name: _incomplete(ws, record, name, held, failed, outputs, check=check)
            for name in sorted(wanted) if names is None or name in names}


def _incomplete(ws: Workspace, record: JobRecord, name: str, held: dict[str, Path],
                failed: dict[str, FailedUpload], outputs: Path, *,
                check: bool) -> Incomplete:
    resolved = output_location(ws, record, name, check=False)
    local = resolved.local_path if resolved is not None else None
    location = str(local) if local is not None else record.outputs.get(name) or (
        default_artifacts_uri(record.name) if name == ARTIFACTS else "its location")
    missing, total, kept = failed.get(name, (None, None, None))
    reached: bool | None = None
    if name in held:
        why = str(record.extra.get("held_back_why") or f"the job {HELD_BACK_WHY}")
        kept_at = held[name]
        if not why.startswith(DIED):
            reached = False  # held back: nothing of it was uploaded
    else:
        why = "its upload failed (the job's error says why)" if name in failed else \
            "its staged data was not all uploaded (the job's error says why)"
        own = own_staged(ws.job_dir(record.name).outputs, name, kept)
        kept_at = own if own is not None and is_folder(own) else outputs / name
        if missing is not None and total is not None:
            reached = missing < total
    if reached is None:
        reached = _reached(ws, record, name, local, check=check)
    if reached is not False:  # a dead runner's: part of it may be there
        why = why.replace("before uploading them", "before its upload finished")
    why = why.replace("uploading them", "uploading it").replace("they were uploaded", "it was uploaded")
    whole = reached is False or (_mode(record, name) == "upload" and local is None)
    node = kept_on_node(record).get(name)  # never counted here: its count is the node's
    return Incomplete(output=name, kept_at=Path(node[1]) if node else kept_at, why=why, reached=reached,
                      files=node[2] if node else count_files(kept_at), whole=whole, location=location,
                      held_back=name in held and reached is False, missing=missing, total=total,
                      node=node[0] if node else None, job=record.name,
                      removed_on=None if node else removed_on_node(record).get(name))


def removed_on_node(record: JobRecord) -> dict[str, str]:
    """A Ray job's outputs whose staged data its node could not keep (``REMOVED_KEY``) -> that node."""
    removed = record.extra.get(REMOVED_KEY)
    if not isinstance(removed, dict):
        return {}
    return {k: v for k, v in removed.items() if isinstance(k, str) and isinstance(v, str) and v.isprintable()}


def kept_on_node(record: JobRecord) -> dict[str, tuple[str, str, int]]:
    """A Ray job's outputs whose staged data is kept on its node (``KEPT_KEY``) -> (the node, as shown: its
    host and IP; the path there; its files), each printable text or a count (a record may be edited)."""
    found: dict[str, tuple[str, str, int]] = {}
    for name, entry in (record.extra.get(KEPT_KEY) or {}).items():
        host, path, files, ip = (entry.get(k) for k in ("host", "path", "files", "ip")) \
            if isinstance(entry, dict) else (None,) * 4
        if all(isinstance(v, str) and v.isprintable() for v in (name, host, path)) and \
                isinstance(files, int) and not isinstance(files, bool) and files >= 0:
            shown = f"{host} ({ip})" if isinstance(ip, str) and ip.isprintable() and ip != host else host
            found[name] = (str(shown), str(path), files)
    return found


def declared_outputs(record: JobRecord) -> set[str]:
    """The outputs the job has: its recorded outputs, its stored plan's, and its artifacts."""
    plan = record.extra.get("plan")
    bindings = plan.get("outputs") if isinstance(plan, dict) else None
    planned = {b["name"] for b in bindings or () if isinstance(b, dict) and isinstance(b.get("name"), str)}
    return {*record.outputs, *planned, ARTIFACTS}


def plain_name(name: object) -> bool:
    """An output's name that is one folder name (its staging folder's, ``<job>/outputs/<name>``)."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def own_staged(outputs: Path, name: str, path: object) -> Path | None:
    """``path`` (where a record or a node's result says output ``name``'s staged data is kept) when it is
    that output's own staging folder ``outputs/<name>`` of the job, or lies in it, as written (no ``..``
    out of it) and on the way there (no link from ``outputs`` down: a link may lead anywhere); None for
    anything else: a relative path, another output's folder, a place elsewhere on this machine."""
    if not plain_name(name) or not isinstance(path, str) or "\0" in path or not os.path.isabs(path):
        return None
    own = Path(os.path.normpath(outputs)) / name
    written = Path(os.path.normpath(path))
    if written != own and own not in written.parents:
        return None
    place = own.parent
    for part in ("", name, *written.relative_to(own).parts):
        place = place / part if part else place
        try:
            if stat.S_ISLNK(os.lstat(place).st_mode):
                return None
        except OSError:  # not there (any more): nothing below it leads anywhere
            break
    return written


def _held_back(ws: Workspace, record: JobRecord) -> dict[str, Path]:
    """The record's held-back outputs (each named by a ``plain_name``) -> where their staged data is: the
    record's path when it is the output's own staging folder (``own_staged``), else that folder."""
    outputs = ws.job_dir(record.name).outputs
    held: dict[str, Path] = {}
    refused = []
    for name, path in (record.extra.get("held_back_outputs") or {}).items():
        found = own_staged(outputs, name, path)
        if found is None:
            refused.append(ascii(name)[1:-1][:60])
        if plain_name(name):
            held[name] = found or outputs / name
    if refused:
        log.warning("job %s's record names staged data of output(s) %s outside their own staging folders "
                    "(%s/<output>): not looked at there", record.name, ", ".join(refused), outputs)
    return held


def _failed_uploads(record: JobRecord) -> dict[str, FailedUpload]:
    """Each output of ``record`` that could not be made durable -> (files not uploaded, of how many, where
    its staged data is kept), each None when the record does not say: from ``extra["outputs_not_durable"]``;
    a record without it (written before the runner wrote it) from its error's text."""
    structured = record.extra.get(NOT_DURABLE_KEY)
    if isinstance(structured, dict):
        return {str(name): _from_record(entry) for name, entry in structured.items()}
    return _from_text(record.error or "")


def _from_record(entry: Any) -> FailedUpload:
    def number(key: str) -> int | None:
        value = entry.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    if not isinstance(entry, dict):
        return None, None, None
    staged = entry.get("staged")
    return number("failed"), number("total"), staged if isinstance(staged, str) and staged else None


def _from_text(error: str) -> dict[str, FailedUpload]:
    """Only for a record written before ``NOT_DURABLE_KEY`` (its error's text as ``runner.jobs.run`` and
    ``runner.errors.TransferError`` worded it then): each output's section after ``NOT_DURABLE``."""
    if NOT_DURABLE not in error:
        return {}
    text = error[error.index(NOT_DURABLE):]
    starts = list(_SECTION.finditer(text))
    found: dict[str, FailedUpload] = {}
    for match, after in zip(starts, [*starts[1:], None], strict=True):
        section = text[match.start():after.start() if after is not None else len(text)]
        missing: int | None = None
        total: int | None = None
        if of := _OF_TOTAL.search(section):
            missing, total = int(of.group(1)), int(of.group(2))
        elif counts := _COUNTED.findall(section):
            missing = sum(int(c) for c in counts)
        kept = _KEPT_AT.search(section)
        found[match.group(1)] = (missing, total, kept.group(1).strip() if kept else None)
    return found


def output_location(ws: Workspace, record: JobRecord, name: str, *, check: bool) -> ResolvedPath | None:
    """Where the output was to go (the job's artifacts: their default place), resolved (its store read
    only with ``check``); None when the record names none or it cannot be resolved."""
    location = record.outputs.get(name) or (default_artifacts_uri(record.name) if name == ARTIFACTS else None)
    if location is None:
        return None
    try:
        return Resolver(ws).resolve_output(location, job_name=record.name, output_name=name, check=check)
    except RunnerError:
        return None


def _reached(ws: Workspace, record: JobRecord, name: str, local: Path | None, *, check: bool) -> bool | None:
    """Whether any file of the output is at its location: a local folder is listed (no link followed), a
    remote store is asked only with ``check``; None when it cannot be told."""
    if local is not None:
        try:
            mode = os.lstat(local).st_mode
        except OSError:
            return False
        return holds_files(local) if stat.S_ISDIR(mode) else stat.S_ISREG(mode)
    if not check:
        return None
    resolved = output_location(ws, record, name, check=True)
    return None if resolved is None else resolved.kind is not PathKind.ANY


def _mode(record: JobRecord, name: str) -> str | None:
    """The output's mode as the stored plan has it (the job's artifacts are staged and uploaded)."""
    if name == ARTIFACTS:
        return "upload"
    plan = record.extra.get("plan")
    for binding in plan.get("outputs", []) if isinstance(plan, dict) else []:
        if isinstance(binding, dict) and binding.get("name") == name:
            return str(binding.get("mode"))
    return None


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"

